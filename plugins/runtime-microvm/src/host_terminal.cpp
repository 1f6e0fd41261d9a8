#include "host_terminal.hpp"

#include <ctr/sys/fd_passing.hpp>
#include <ctr/sys/files.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

namespace microvm {

namespace {

ctr::Status send_fd(const std::string& socket_path, int fd) {
    ctr::sys::UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "console socket path too long");
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    if (!s.valid() || ::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return ctr::make_error(CTR_E_INTERNAL, "console socket " + socket_path + ": " + std::strerror(errno));
    if (!ctr::sys::send_fd(s.get(), fd, 't')) return ctr::make_error(CTR_E_INTERNAL, std::string("send the terminal: ") + std::strerror(errno));
    return ctr::ok();
}

}  // namespace

ctr::Result<std::unique_ptr<HostTerminal>> HostTerminal::open(const std::string& console_socket) {
    ctr::sys::UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    char name[64];
    if (!master.valid() || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0 || ::ptsname_r(master.get(), name, sizeof name) != 0)
        return ctr::make_error(CTR_E_INTERNAL, std::string("pty: ") + std::strerror(errno));
    std::unique_ptr<HostTerminal> t(new HostTerminal());
    t->slave_.reset(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!t->slave_.valid()) return ctr::make_error(CTR_E_INTERNAL, std::string("pty slave: ") + std::strerror(errno));
    termios tio{};
    ::tcgetattr(t->slave_.get(), &tio);
    ::cfmakeraw(&tio);
    ::tcsetattr(t->slave_.get(), TCSANOW, &tio);
    CTR_TRY_STATUS(send_fd(console_socket, master.get()));
    auto stop = CTR_TRY(ctr::sys::make_pipe());
    t->stop_read_ = std::move(stop.read);
    t->stop_write_ = std::move(stop.write);
    return t;
}

ctr::Result<ctr::sys::UniqueFd> HostTerminal::output() const {
    ctr::sys::UniqueFd fd(::fcntl(slave_.get(), F_DUPFD_CLOEXEC, 3));
    if (!fd.valid()) return ctr::make_error(CTR_E_INTERNAL, std::string("dup: ") + std::strerror(errno));
    return fd;
}

std::pair<int, int> HostTerminal::size() const {
    winsize ws{};
    if (::ioctl(slave_.get(), TIOCGWINSZ, &ws) != 0) return {0, 0};
    return {ws.ws_row, ws.ws_col};
}

void HostTerminal::set_size(int rows, int cols) const {
    winsize ws{static_cast<unsigned short>(rows), static_cast<unsigned short>(cols), 0, 0};
    ::ioctl(slave_.get(), TIOCSWINSZ, &ws);
}

void HostTerminal::relay(Channel& channel, uint32_t stream) {
    thread_ = std::thread([this, &channel, stream] {
        winsize last{};  // what the guest was told: the size at its start, or none
        ::ioctl(slave_.get(), TIOCGWINSZ, &last);
        for (;;) {
            // Sizes are polled: no signal tells the slave's holder of a change.
            winsize ws{};
            if (::ioctl(slave_.get(), TIOCGWINSZ, &ws) == 0 && (ws.ws_row != last.ws_row || ws.ws_col != last.ws_col)) {
                last = ws;
                if (!channel.send(CTR_F_RESIZE, stream, ints_payload(ws.ws_row, ws.ws_col))) return;
            }
            pollfd p[2] = {{slave_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
            if (::poll(p, 2, 200) < 0 && errno != EINTR) return;
            if (p[1].revents) return;
            if (p[0].revents & POLLIN) {
                char buf[4096];
                ssize_t n = ::read(slave_.get(), buf, sizeof buf);
                if (n > 0 && !channel.send(CTR_F_STDIN, stream, std::string(buf, static_cast<size_t>(n)))) return;
                if (n <= 0 && errno != EINTR && errno != EAGAIN) return;
            }
        }
    });
}

HostTerminal::~HostTerminal() {
    stop_write_.reset();
    if (thread_.joinable()) thread_.join();
}

}  // namespace microvm
