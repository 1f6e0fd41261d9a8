#include "unix_socket.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace microvm {

namespace {

struct DirAddress {
    ctr::sys::UniqueFd dir;
    sockaddr_un addr{};
};

ctr::Result<DirAddress> address(const std::filesystem::path& dir, const std::string& name) {
    DirAddress a;
    a.dir.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!a.dir.valid()) return ctr::make_error(CTR_E_NOT_FOUND, dir.string() + ": " + std::strerror(errno));
    a.addr.sun_family = AF_UNIX;
    std::string path = "/proc/self/fd/" + std::to_string(a.dir.get()) + "/" + name;
    if (path.size() >= sizeof a.addr.sun_path) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "socket name too long: " + name);
    std::memcpy(a.addr.sun_path, path.c_str(), path.size() + 1);
    return a;
}

ctr::Error socket_error(const std::string& what, const std::filesystem::path& dir, const std::string& name) {
    int e = errno;
    return ctr::make_error(e == ENOENT || e == ECONNREFUSED ? CTR_E_NOT_FOUND : CTR_E_INTERNAL,
                           what + " " + (dir / name).string() + ": " + std::strerror(e));
}

}  // namespace

ctr::Result<ctr::sys::UniqueFd> listen_in(const std::filesystem::path& dir, const std::string& name) {
    auto a = CTR_TRY(address(dir, name));
    ctr::sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return socket_error("socket", dir, name);
    ::unlink(a.addr.sun_path);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a.addr), sizeof a.addr) != 0) return socket_error("bind", dir, name);
    if (::listen(fd.get(), 16) != 0) return socket_error("listen", dir, name);
    return fd;
}

ctr::Result<ctr::sys::UniqueFd> connect_in(const std::filesystem::path& dir, const std::string& name) {
    auto a = CTR_TRY(address(dir, name));
    ctr::sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return socket_error("socket", dir, name);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a.addr), sizeof a.addr) != 0) return socket_error("connect", dir, name);
    return fd;
}

ctr::Result<ctr::sys::UniqueFd> accept_within(int listener, int timeout_ms) {
    pollfd p{listener, POLLIN, 0};
    int n;
    do n = ::poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n == 0) return ctr::make_error(CTR_E_DEADLINE_EXCEEDED, "no connection within " + std::to_string(timeout_ms) + " ms");
    ctr::sys::UniqueFd fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd.valid()) return ctr::make_error(CTR_E_INTERNAL, std::string("accept: ") + std::strerror(errno));
    return fd;
}

}  // namespace microvm
