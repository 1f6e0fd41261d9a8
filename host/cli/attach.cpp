#include "cli/attach.hpp"

#include "api/attach_protocol.hpp"
#include <ctr/sys/files.hpp>
#include <ctr/sys/io.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace ctr::cli {

namespace attach = ctr::api::attach;

namespace {

// Raw mode on our terminal while a container's terminal is attached.
class RawTerminal {
public:
    explicit RawTerminal(int fd) : fd_(fd) {
        if (!::isatty(fd_) || ::tcgetattr(fd_, &saved_) != 0) return;
        termios raw = saved_;
        ::cfmakeraw(&raw);
        active_ = ::tcsetattr(fd_, TCSANOW, &raw) == 0;
    }
    ~RawTerminal() {
        if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
    }
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};

// SIGWINCH into a pipe that the session polls.
int g_winch_pipe = -1;
void on_winch(int) {
    char c = 'w';
    [[maybe_unused]] auto w = ::write(g_winch_pipe, &c, 1);
}

int g_signal_pipe = -1;
void on_signal(int sig) {
    auto c = static_cast<unsigned char>(sig);
    [[maybe_unused]] auto w = ::write(g_signal_pipe, &c, 1);
}

void write_out(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(STDOUT_FILENO, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        off += static_cast<size_t>(n);
    }
}

std::string our_size() {
    winsize ws{};
    for (int fd : {STDIN_FILENO, STDOUT_FILENO})
        if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) return attach::resize_frame(ws.ws_row, ws.ws_col);
    return "";
}

// Watches stdin's bytes for the detach sequence. A byte that may begin it
// is held back until the sequence completes (detach) or breaks (the held
// bytes go on), so the container never sees a half-typed sequence.
class DetachWatch {
public:
    explicit DetachWatch(std::string keys) : keys_(std::move(keys)) {}
    // What to send on; `detached` once the whole sequence was typed.
    std::string feed(std::string_view data, bool& detached) {
        std::string out;
        for (char c : data) {
            if (keys_.empty()) {
                out += c;
                continue;
            }
            held_ += c;
            if (keys_.compare(0, held_.size(), held_) == 0) {
                if (held_.size() == keys_.size()) {
                    detached = true;
                    return out;
                }
                continue;
            }
            out += held_;
            held_.clear();
        }
        return out;
    }

private:
    std::string keys_, held_;
};

}  // namespace

Result<std::string> parse_detach_keys(const std::string& text) {
    std::string keys;
    size_t start = 0;
    while (start < text.size()) {
        size_t comma = text.find(',', start);
        std::string key = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        start = comma == std::string::npos ? text.size() : comma + 1;
        const std::string bad = "--detach-keys: \"" + key + "\" is not a key (ctrl-a..ctrl-z, ctrl-@, ctrl-[..ctrl-_, or one character)";
        if (key.size() == 1) {
            keys += key;
            continue;
        }
        if (key.size() != 6 || key.rfind("ctrl-", 0) != 0) return make_error(CTR_E_INVALID_ARGUMENT, bad);
        char c = key[5];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c >= 'a' && c <= 'z') keys += static_cast<char>(c - 'a' + 1);
        else if (c == '@') keys += '\0';
        else if (c >= '[' && c <= '_') keys += static_cast<char>(c - '[' + 27);
        else return make_error(CTR_E_INVALID_ARGUMENT, bad);
    }
    return keys;
}

Result<SessionEnd> attach_session(const api::Client& client, const std::string& id, bool interactive, bool tty,
                                  const std::string& target, const std::string& detach_keys) {
    // Our size travels with the request: the process starts with it. Without
    // one (no terminal here), a size of 0x0, which the shim ignores: either
    // way the shim hears from us at once and need not wait.
    std::string first = our_size();
    if (first.empty()) first = attach::resize_frame(0, 0);
    auto up = CTR_TRY(client.upgrade(target.empty() ? "/v1/containers/" + id + "/attach" : target, first));
    sys::UniqueFd conn(up.fd);
    std::string in = std::move(up.leftover);

    sys::FdPair winch;
    struct sigaction old_winch {};
    if (tty)
        if (auto p = sys::make_pipe(O_NONBLOCK)) winch = std::move(*p);
    if (winch.write.valid()) {
        g_winch_pipe = winch.write.get();
        struct sigaction sa {};
        sa.sa_handler = on_winch;
        sa.sa_flags = SA_RESTART;  // the API calls around us are not to see EINTR
        ::sigaction(SIGWINCH, &sa, &old_winch);
        // A change between the request and now.
        if (auto size = our_size(); !size.empty()) sys::send_all(conn.get(), size);
    }
    const sys::UniqueFd& winch_read = winch.read;
    RawTerminal raw(tty && interactive ? STDIN_FILENO : -1);

    bool stdin_open = interactive;
    bool detached = false;
    DetachWatch watch(detach_keys);
    char buf[65536];
    for (;;) {
        pollfd fds[3] = {{conn.get(), POLLIN, 0}, {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}, {winch_read.get(), POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(conn.get(), buf, sizeof buf);
            if (n <= 0) break;  // the container ended
            in.append(buf, static_cast<size_t>(n));
            bool broken = false;
            while (auto f = attach::take_frame(in, broken)) {
                if (f->type == attach::Frame::output) write_out(f->payload);
                if (f->type == attach::Frame::stderr_output) {
                    std::fwrite(f->payload.data(), 1, f->payload.size(), stderr);
                    std::fflush(stderr);
                }
            }
            if (broken) break;
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n > 0) {
                std::string pass = watch.feed(std::string_view(buf, static_cast<size_t>(n)), detached);
                if (!pass.empty()) sys::send_all(conn.get(), attach::frame(attach::Frame::stdin_data, pass));
                if (detached) break;
            } else if (n == 0 || errno != EINTR) {
                stdin_open = false;
                sys::send_all(conn.get(), attach::frame(attach::Frame::stdin_close, ""));
            }
        }
        if (fds[2].revents & POLLIN) {
            while (::read(winch_read.get(), buf, sizeof buf) > 0) {
            }
            if (auto size = our_size(); !size.empty()) sys::send_all(conn.get(), size);
        }
    }
    if (winch.write.valid()) {
        ::sigaction(SIGWINCH, &old_winch, nullptr);
        g_winch_pipe = -1;
    }
    return detached ? SessionEnd::detached : SessionEnd::ended;
}

SignalProxy::SignalProxy(const api::Client& client, std::string id) : client_(client), id_(std::move(id)) {
    auto p = sys::make_pipe();
    if (!p) return;
    pipe_ = std::move(*p);
    g_signal_pipe = pipe_.write.get();
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;  // the wait call in flight is not to see EINTR
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) ::sigaction(sig, &sa, nullptr);
    thread_ = std::thread([this] {
        unsigned char sig;
        while (::read(pipe_.read.get(), &sig, 1) == 1 && sig != 0)
            (void)client_.call("POST", "/v1/containers/" + id_ + "/kill?signal=" + std::to_string(sig));
    });
}

SignalProxy::~SignalProxy() {
    if (!pipe_.write.valid()) return;
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) ::sigaction(sig, &sa, nullptr);
    g_signal_pipe = -1;
    unsigned char stop = 0;
    [[maybe_unused]] auto w = ::write(pipe_.write.get(), &stop, 1);
    thread_.join();
}

}  // namespace ctr::cli
