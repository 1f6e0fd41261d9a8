// The relay between a Docker client's hijacked connection and a shim's
// attach socket. The client speaks raw bytes (its stdin one way, the
// process's output the other, framed by Docker's 8-byte headers unless the
// process has a terminal); the shim speaks attach frames.
#include "apiserver/docker/docker_streams.hpp"

#include "api/attach_protocol.hpp"
#include <ctr/sys/io.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>

namespace ctr::apiserver::docker {

namespace attach = api::attach;

Result<std::string> detach_sequence(const std::string& text) {
    if (text.empty()) return std::string("\x10\x11");  // Ctrl-P Ctrl-Q
    std::string out;
    size_t start = 0;
    for (;;) {
        const size_t comma = text.find(',', start);
        std::string key = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        std::string lower = key;
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (key.size() == 1) {
            out += key;
        } else if (lower.size() == 6 && lower.rfind("ctrl-", 0) == 0) {
            // Ctrl-@ is 0, Ctrl-A 1 ... Ctrl-Z 26, then [ \ ] ^ _.
            const char c = lower[5];
            if (c >= 'a' && c <= 'z') out += static_cast<char>(c - 'a' + 1);
            else if (c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_') out += static_cast<char>(c == '@' ? 0 : c - '@');
            else return make_error(CTR_E_INVALID_ARGUMENT, "detachKeys: invalid key \"" + key + "\"");
        } else {
            return make_error(CTR_E_INVALID_ARGUMENT, "detachKeys: invalid key \"" + key + "\" (want a character or ctrl-X)");
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

bool ShimLink::send(const std::string& frame) {
    std::lock_guard<std::mutex> lock(write_mu);
    return sys::send_all(fd.get(), frame);
}

namespace {

// The client's bytes with the detach sequence looked for: a partial
// sequence is held back until the next byte says whether it was one.
class DetachScanner {
public:
    explicit DetachScanner(std::string seq) : seq_(std::move(seq)) {}
    // What to pass on of `in`; `detached` once the whole sequence came.
    std::string feed(std::string_view in, bool& detached) {
        std::string out;
        detached = false;
        for (char ch : in) {
            if (seq_.empty()) {
                out += ch;
                continue;
            }
            if (ch == seq_[matched_]) {
                if (++matched_ == seq_.size()) {
                    detached = true;
                    return out;
                }
                continue;
            }
            out.append(seq_, 0, matched_);  // not the sequence after all
            matched_ = 0;
            if (ch == seq_[0]) matched_ = 1;
            else out += ch;
        }
        return out;
    }

private:
    std::string seq_;
    size_t matched_ = 0;
};

}  // namespace

void end_hijacked(int fd) {
    ::shutdown(fd, SHUT_WR);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    char buf[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
        pollfd p{fd, POLLIN, 0};
        if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return;
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EINTR)) return;
    }
}

RelayEnd relay(int client, ShimLink& shim, std::string leftover, const RelayOptions& o, const std::atomic<bool>* stop) {
    DetachScanner scanner(o.forward_stdin ? o.detach : "");
    bool stdin_open = o.forward_stdin;
    auto take_input = [&](std::string_view bytes) {
        bool detached = false;
        std::string pass = scanner.feed(bytes, detached);
        if (!pass.empty()) shim.send(attach::frame(attach::Frame::stdin_data, pass));
        return detached;
    };
    if (stdin_open && !leftover.empty() && take_input(leftover)) return RelayEnd::detached;
    std::string from_shim;
    char buf[65536];
    for (;;) {
        if (stop && *stop) return RelayEnd::client_gone;
        // The client is watched even once its stdin ended: a hangup (both
        // ways closed) is a client that left.
        pollfd fds[2] = {{client, static_cast<short>(stdin_open ? POLLIN : 0), 0}, {shim.fd.get(), POLLIN, 0}};
        if (::poll(fds, 2, stop ? 100 : -1) < 0) {
            if (errno == EINTR) continue;
            return RelayEnd::client_gone;
        }
        if (!stdin_open && (fds[0].revents & (POLLHUP | POLLERR))) return RelayEnd::client_gone;
        if (stdin_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = ::read(client, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                // A half-close is the end of stdin (docker's CloseWrite);
                // the output still flows until the process ends.
                shim.send(attach::frame(attach::Frame::stdin_close, ""));
                stdin_open = false;
            } else if (take_input(std::string_view(buf, static_cast<size_t>(n)))) {
                return RelayEnd::detached;
            }
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(shim.fd.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return RelayEnd::ended;
            from_shim.append(buf, static_cast<size_t>(n));
            bool broken = false;
            while (auto f = attach::take_frame(from_shim, broken)) {
                if (!o.output || (f->type != attach::Frame::output && f->type != attach::Frame::stderr_output)) continue;
                const char stream = f->type == attach::Frame::output ? 1 : 2;
                if (!sys::send_all(client, o.tty ? f->payload : framed(stream, f->payload))) return RelayEnd::client_gone;
            }
            if (broken) return RelayEnd::ended;
        }
    }
}

}  // namespace ctr::apiserver::docker
