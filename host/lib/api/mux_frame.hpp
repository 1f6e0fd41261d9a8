// Docker's multiplexed stream framing, as the exec route sends a process's
// output: [stream, 0, 0, 0, size (big endian, 4 bytes)] + data; stream 1 is
// stdout, 2 stderr, 3 the exit record (JSON). docs/api.md describes it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ctr::api {

inline std::string mux_frame(uint8_t stream, std::string_view data) {
    std::string f(8, '\0');
    f[0] = static_cast<char>(stream);
    auto n = static_cast<uint32_t>(data.size());
    f[4] = static_cast<char>(n >> 24);
    f[5] = static_cast<char>(n >> 16);
    f[6] = static_cast<char>(n >> 8);
    f[7] = static_cast<char>(n);
    return f + std::string(data);
}

}  // namespace ctr::api
