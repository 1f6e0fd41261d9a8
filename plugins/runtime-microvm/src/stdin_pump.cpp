#include "stdin_pump.hpp"

#include <ctr/sys/files.hpp>

#include <cerrno>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace microvm {

void StdinPump::start(ctr::sys::UniqueFd in, Channel& channel, uint32_t stream) {
    in_ = std::move(in);
    auto stop = ctr::sys::make_pipe();
    if (!stop) return;
    stop_read_ = std::move(stop->read);
    stop_write_ = std::move(stop->write);
    thread_ = std::thread([this, &channel, stream] {
        char buf[32768];
        for (;;) {
            pollfd fds[2] = {{in_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                return;
            }
            if (fds[1].revents) return;  // stopped: no EOF, the process is going anyway
            ssize_t n = ::read(in_.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            if (!channel.send(CTR_F_STDIN, stream, std::string(buf, static_cast<size_t>(n)))) return;
        }
        (void)channel.send(CTR_F_STDIN_EOF, stream);
    });
}

StdinPump::~StdinPump() {
    stop_write_.reset();  // the thread sees the pipe close
    if (thread_.joinable()) thread_.join();
}

}  // namespace microvm
