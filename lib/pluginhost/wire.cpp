#include <ctr/pluginhost/wire.hpp>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ctr::pluginhost::wire {

namespace {

bool send_bytes(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// Reads exactly n bytes. `started` tells whether a frame is under way: EOF
// before its first byte is a clean end, inside it a broken one.
ReadStatus recv_bytes(int fd, char* p, size_t n, Clock::time_point deadline, const std::function<void()>& tick,
                      bool started) {
    while (n > 0) {
        auto now = Clock::now();
        if (now >= deadline) return ReadStatus::timeout;
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
        pollfd pfd{fd, POLLIN, 0};
        int r = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, tick ? 100 : 1000)));
        if (r < 0 && errno != EINTR) return ReadStatus::bad;
        if (r <= 0) {
            if (tick) tick();
            continue;
        }
        ssize_t got = ::recv(fd, p, n, 0);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (got < 0) return ReadStatus::bad;
        if (got == 0) return started ? ReadStatus::bad : ReadStatus::eof;
        started = true;
        p += got;
        n -= static_cast<size_t>(got);
    }
    return ReadStatus::ok;
}

}  // namespace

std::string result_payload(int32_t status, int32_t detail, const std::string& message, std::string_view result) {
    return nlohmann::json{{"status", status}, {"detail", detail}, {"message", message}}.dump() + "\n" + std::string(result);
}

bool write_frame(int fd, char type, std::string_view payload) {
    if (payload.size() > kMaxFrame) return false;
    char head[5];
    head[0] = type;
    auto len = static_cast<uint32_t>(payload.size());
    for (int i = 0; i < 4; ++i) head[1 + i] = static_cast<char>((len >> (8 * i)) & 0xff);
    return send_bytes(fd, head, sizeof head) && send_bytes(fd, payload.data(), payload.size());
}

ReadStatus read_frame(int fd, Clock::time_point deadline, Frame* out, const std::function<void()>& tick) {
    char head[5];
    if (auto st = recv_bytes(fd, head, sizeof head, deadline, tick, false); st != ReadStatus::ok) return st;
    uint32_t len = 0;
    for (int i = 0; i < 4; ++i) len |= static_cast<uint32_t>(static_cast<unsigned char>(head[1 + i])) << (8 * i);
    if (len > kMaxFrame) return ReadStatus::bad;
    out->type = head[0];
    out->payload.resize(len);
    if (len == 0) return ReadStatus::ok;
    return recv_bytes(fd, out->payload.data(), len, deadline, tick, true);
}

}  // namespace ctr::pluginhost::wire
