#include <ctr/sys/console.hpp>

#include <ctr/sys/fd_passing.hpp>

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
    UniqueFd pty = recv_fd(conn.get());
    if (!pty.valid())
        return make_error(CTR_E_INTERNAL, std::string("receive the terminal: ") +
                                              (errno == EBADMSG ? "the runtime's message carried none" : std::strerror(errno)));
    return pty;
}

}  // namespace ctr::sys
