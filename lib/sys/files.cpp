#include <ctr/sys/files.hpp>

#include <ctr/sys/unique_fd.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ctr::sys {

Error errno_error(const std::string& op, const std::filesystem::path& path, int err) {
    ctr_status status = CTR_E_INTERNAL;
    switch (err) {
    case ENOENT: case ENOTDIR: status = CTR_E_NOT_FOUND; break;
    case EEXIST: status = CTR_E_ALREADY_EXISTS; break;
    case EACCES: case EPERM: case EROFS: status = CTR_E_PERMISSION_DENIED; break;
    case ENOSPC: case EDQUOT: case ENOMEM: case EMFILE: status = CTR_E_RESOURCE_EXHAUSTED; break;
    case EINVAL: case ENAMETOOLONG: case ELOOP: status = CTR_E_INVALID_ARGUMENT; break;
    default: break;
    }
    return make_error(status, op + " \"" + path.string() + "\": " + std::strerror(err));
}

Result<std::string> read_file(const std::filesystem::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return errno_error("open", path, errno);
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("read", path, errno);
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

Status write_file_atomic(const std::filesystem::path& path, const std::string& content, int mode, Durability durability) {
    std::filesystem::path tmp = path;
    tmp += ".tmp." + std::to_string(::getpid());
    {
        UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
        if (!fd.valid()) return errno_error("create", tmp, errno);
        size_t done = 0;
        while (done < content.size()) {
            ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                int e = errno;
                ::unlink(tmp.c_str());
                return errno_error("write", tmp, e);
            }
            done += static_cast<size_t>(n);
        }
        if (durability == Durability::power_loss && ::fsync(fd.get()) != 0) {
            int e = errno;
            ::unlink(tmp.c_str());
            return errno_error("fsync", tmp, e);
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return errno_error("rename", path, e);
    }
    if (durability == Durability::process_crash) return ok();
    auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.valid()) ::fsync(dfd.get());
    return ok();
}

Status make_dirs(const std::filesystem::path& path, int mode) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) return errno_error("mkdir", path, ec.value());
    ::chmod(path.c_str(), static_cast<mode_t>(mode));
    return ok();
}

UniqueFd open_in_root(int root, const std::string& path, int flags) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const char* rel = path.empty() ? "." : path.c_str();
    return UniqueFd(static_cast<int>(::syscall(SYS_openat2, root, rel, &how, sizeof how)));
}

Result<FdPair> make_pipe(int flags) {
    int fds[2];
    if (::pipe2(fds, flags | O_CLOEXEC) != 0) return errno_error("pipe", "", errno);
    return FdPair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<FdPair> make_socketpair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return errno_error("socketpair", "", errno);
    return FdPair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace ctr::sys
