// The attach stream: what flows between a client (the CLI, through the API
// server's HTTP upgrade) and a container's shim, as frames
// [type: 1 byte][length: 4 bytes, big endian][payload].
//
//   client -> shim: stdin (data), stdin_close, resize (rows, cols: 2 bytes each, big endian)
//   shim -> client: output (a terminal's output, or an exec's stdout),
//                   stderr_output (an exec's stderr, without a terminal); a
//                   container without a terminal sends none: its client
//                   reads the logs
//
// The shim closes the stream when the container's process has ended.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ctr::api::attach {

enum class Frame : uint8_t { stdin_data = 0, stdin_close = 1, resize = 2, output = 10, stderr_output = 11 };

inline std::string frame(Frame type, std::string_view payload) {
    std::string f(5, '\0');
    f[0] = static_cast<char>(type);
    auto n = static_cast<uint32_t>(payload.size());
    for (int i = 0; i < 4; ++i) f[1 + i] = static_cast<char>((n >> (8 * (3 - i))) & 0xff);
    f.append(payload);
    return f;
}

inline std::string resize_frame(uint16_t rows, uint16_t cols) {
    const char p[4] = {static_cast<char>(rows >> 8), static_cast<char>(rows & 0xff), static_cast<char>(cols >> 8),
                       static_cast<char>(cols & 0xff)};
    return frame(Frame::resize, std::string_view(p, 4));
}

struct Parsed {
    Frame type;
    std::string payload;
};

// Takes one whole frame off the front of `buf`, if there is one. Frames
// larger than 1 MiB are a broken peer: nullopt with `broken` set.
inline std::optional<Parsed> take_frame(std::string& buf, bool& broken) {
    broken = false;
    if (buf.size() < 5) return std::nullopt;
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<uint8_t>(buf[1 + i]);
    if (n > (1u << 20)) {
        broken = true;
        return std::nullopt;
    }
    if (buf.size() < 5 + n) return std::nullopt;
    Parsed p{static_cast<Frame>(static_cast<uint8_t>(buf[0])), buf.substr(5, n)};
    buf.erase(0, 5 + n);
    return p;
}

}  // namespace ctr::api::attach
