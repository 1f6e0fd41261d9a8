#include <ctr/sys/fd_passing.hpp>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>

namespace ctr::sys {

bool send_fd(int sock, int fd, char byte) {
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    for (;;) {
        ssize_t w = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        return w == 1;
    }
}

UniqueFd recv_fd(int sock) {
    char data[256];  // a sender may say more than one byte (runtimes do)
    iovec iov{data, sizeof data};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t r;
    while ((r = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
    if (r <= 0) return UniqueFd();
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
            return UniqueFd(fd);
        }
    }
    errno = EBADMSG;
    return UniqueFd();
}

}  // namespace ctr::sys
