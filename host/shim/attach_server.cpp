#include "shim/attach_server.hpp"

#include "api/attach_protocol.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ctr::shim {

namespace {

constexpr size_t kEarlyMax = 1 << 20;

void set_nonblocking(int fd) {
    if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Best effort: a client that cannot keep up loses output, the container
// never waits for it.
void send_to(int fd, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (errno == EAGAIN) {
                pollfd p{fd, POLLOUT, 0};
                if (::poll(&p, 1, 1000) > 0) continue;
            }
            return;
        }
        off += static_cast<size_t>(n);
    }
}

}  // namespace

Result<sys::UniqueFd> listen_unix(const std::string& path) {
    sockaddr_un a{};
    if (path.size() >= sizeof a.sun_path) return make_error(CTR_E_INVALID_ARGUMENT, "socket path too long: " + path);
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return make_error(CTR_E_INTERNAL, std::string("socket: ") + std::strerror(errno));
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.c_str(), path.size());
    ::unlink(path.c_str());
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::chmod(path.c_str(), 0600) != 0 ||
        ::listen(fd.get(), 16) != 0)
        return make_error(CTR_E_INTERNAL, "listen on \"" + path + "\": " + std::strerror(errno));
    return fd;
}

AttachServer::AttachServer(sys::UniqueFd listener, AttachIo io)
    : listener_(std::move(listener)), master_(io.master), stdin_(io.stdin_write), out_(io.out), err_(io.err) {
    set_nonblocking(out_.get());
    set_nonblocking(err_.get());
    set_nonblocking(master_.get());
    set_nonblocking(stdin_.get());
    set_nonblocking(listener_.get());
    if (master_.valid() && !io.log_path.empty())
        log_.reset(::open(io.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
}

void AttachServer::apply_size() {
    if (!master_.valid() || rows_ == 0) return;
    winsize ws{};
    ws.ws_row = rows_;
    ws.ws_col = cols_;
    ::ioctl(master_.get(), TIOCSWINSZ, &ws);
}

void AttachServer::set_io(AttachIo io) {
    master_.reset(io.master);
    stdin_.reset(io.stdin_write);
    out_.reset(io.out);
    err_.reset(io.err);
    for (int fd : {master_.get(), stdin_.get(), out_.get(), err_.get()}) set_nonblocking(fd);
    // What the client said before the process existed: its size, its input.
    apply_size();
    flush_stdin();
    if (stdin_closed_ && stdin_pending_.empty()) stdin_.reset();
}

void AttachServer::send_error(const std::string& message) {
    send_all(attach::frame(attach::Frame::stderr_output, "container: " + message + "\n"));
}

void AttachServer::send_all(const std::string& f) {
    for (auto& c : clients_) send_to(c.fd.get(), f);
}

void AttachServer::on_output(const char* data, size_t n, attach::Frame type) {
    if (log_.valid() && type == attach::Frame::output) [[maybe_unused]] auto w = ::write(log_.get(), data, n);
    std::string f = attach::frame(type, std::string_view(data, n));
    if (!had_client_) {
        if (early_.size() + f.size() <= kEarlyMax) early_ += f;
        return;
    }
    send_all(f);
}

void AttachServer::write_stdin(const std::string& data) {
    if (stdin_closed_) return;
    stdin_pending_ += data;  // kept until the process's end exists (exec: after accept_first)
    flush_stdin();
}

void AttachServer::flush_stdin() {
    int fd = master_.valid() ? master_.get() : stdin_.get();
    while (fd >= 0 && !stdin_pending_.empty()) {
        ssize_t n = ::write(fd, stdin_pending_.data(), stdin_pending_.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (errno != EAGAIN) stdin_pending_.clear();  // the reader is gone
            return;
        }
        stdin_pending_.erase(0, static_cast<size_t>(n));
    }
    if (stdin_closed_ && stdin_pending_.empty() && !master_.valid()) stdin_.reset();
}

void AttachServer::close_stdin() {
    // A terminal has no end of input of its own: the line discipline's EOF
    // character stands for it. A pipe is closed once what is pending is in.
    if (stdin_closed_) return;
    if (master_.valid()) {
        write_stdin("\x04");  // Ctrl-D, the usual VEOF (the master's own termios does not say the slave's)
        return;
    }
    stdin_closed_ = true;
    if (stdin_pending_.empty()) stdin_.reset();
}

void AttachServer::on_client_data(Client& c, bool& drop) {
    char buf[65536];
    ssize_t n = ::read(c.fd.get(), buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        // A client that leaves without closing stdin ends it (Docker's
        // stdin-once): the container must not wait on a reader that is gone.
        if (!master_.valid()) close_stdin();
        drop = true;
        return;
    }
    if (n < 0) return;
    c.in.append(buf, static_cast<size_t>(n));
    bool broken = false;
    while (auto f = attach::take_frame(c.in, broken)) {
        switch (f->type) {
            case attach::Frame::stdin_data: write_stdin(f->payload); break;
            case attach::Frame::stdin_close: close_stdin(); break;
            case attach::Frame::resize:
                if (f->payload.size() == 4) {
                    rows_ = static_cast<unsigned short>((static_cast<uint8_t>(f->payload[0]) << 8) | static_cast<uint8_t>(f->payload[1]));
                    cols_ = static_cast<unsigned short>((static_cast<uint8_t>(f->payload[2]) << 8) | static_cast<uint8_t>(f->payload[3]));
                    apply_size();
                }
                break;
            default: break;  // frames of newer clients
        }
    }
    if (broken) drop = true;
}

void AttachServer::accept_first(int timeout_ms) {
    pollfd p{listener_.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return;
    sys::UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!c.valid()) return;
    had_client_ = true;
    clients_.push_back({std::move(c), {}});
    // Our CLI sends its size (or 0x0) with its request, so this returns at
    // once; a client that says nothing costs two seconds, on a loaded host
    // the relay may take a moment.
    pollfd q{clients_.back().fd.get(), POLLIN, 0};
    if (::poll(&q, 1, 2000) > 0) {
        bool drop = false;
        on_client_data(clients_.back(), drop);
        if (drop) clients_.pop_back();
    }
}

void AttachServer::run(int exited) {
    char buf[65536];
    bool done = false;
    while (!done) {
        std::vector<pollfd> fds = {{exited, POLLIN, 0}, {listener_.get(), POLLIN, 0}, {master_.get(), POLLIN, 0}};
        int in_fd = master_.valid() ? master_.get() : stdin_.get();
        fds.push_back({stdin_pending_.empty() ? -1 : in_fd, POLLOUT, 0});
        fds.push_back({out_.get(), POLLIN, 0});
        fds.push_back({err_.get(), POLLIN, 0});
        for (auto& c : clients_) fds.push_back({c.fd.get(), POLLIN, 0});
        if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
        if (fds[0].revents & POLLIN) done = true;
        if (fds[1].revents & POLLIN) {
            sys::UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
            if (c.valid()) {
                if (!had_client_ && !early_.empty()) send_to(c.get(), early_);
                had_client_ = true;
                early_.clear();
                clients_.push_back({std::move(c), {}});
            }
        }
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(master_.get(), buf, sizeof buf);
            if (n > 0) on_output(buf, static_cast<size_t>(n), attach::Frame::output);
            else if (n == 0 || (errno != EAGAIN && errno != EINTR)) master_.reset();  // EIO: the last writer is gone
        }
        for (int k = 0; k < 2; ++k) {
            auto& pipe = k == 0 ? out_ : err_;
            if (!(fds[4 + k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = ::read(pipe.get(), buf, sizeof buf);
            if (n > 0) on_output(buf, static_cast<size_t>(n), k == 0 ? attach::Frame::output : attach::Frame::stderr_output);
            else if (n == 0 || (errno != EAGAIN && errno != EINTR)) pipe.reset();
        }
        if (fds[3].revents & (POLLOUT | POLLERR | POLLHUP)) {
            flush_stdin();
            if (stdin_pending_.empty() && !master_.valid() && (fds[3].revents & (POLLERR | POLLHUP))) stdin_.reset();
        }
        for (size_t i = 0; i < clients_.size(); ++i) {
            if (!(fds[6 + i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            bool drop = false;
            on_client_data(clients_[i], drop);
            if (drop) clients_[i].fd.reset();
        }
        std::erase_if(clients_, [](const Client& c) { return !c.fd.valid(); });
    }
    // The process ended: what the terminal still holds, then goodbye.
    while (master_.valid()) {
        ssize_t n = ::read(master_.get(), buf, sizeof buf);
        if (n <= 0) break;
        on_output(buf, static_cast<size_t>(n), attach::Frame::output);
    }
    // An exec's pipes: their writers are gone, so they end.
    for (int k = 0; k < 2; ++k) {
        auto& pipe = k == 0 ? out_ : err_;
        if (!pipe.valid()) continue;
        // A child the process left behind may hold them open: wait a little, not forever.
        for (;;) {
            pollfd p{pipe.get(), POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) break;
            ssize_t n = ::read(pipe.get(), buf, sizeof buf);
            if (n <= 0) break;
            on_output(buf, static_cast<size_t>(n), k == 0 ? attach::Frame::output : attach::Frame::stderr_output);
        }
    }
    clients_.clear();
}

}  // namespace ctr::shim
