#include <ctr/sys/console.hpp>

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <string>
#include <sys/socket.h>

namespace ctr::sys {

Result<UniqueFd> receive_console(int listener, int timeout_ms) {
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return make_error(CTR_E_DEADLINE_EXCEEDED, "the runtime sent no terminal");
    UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn.valid()) return make_error(CTR_E_INTERNAL, std::string("accept the terminal: ") + std::strerror(errno));
    char data[256];
    iovec iov{data, sizeof data};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC) < 0)
        return make_error(CTR_E_INTERNAL, std::string("receive the terminal: ") + std::strerror(errno));
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
            return UniqueFd(fd);
        }
    return make_error(CTR_E_INTERNAL, "the runtime's message carried no terminal");
}

}  // namespace ctr::sys
