// The wire between the daemon and a plugin host process (remote.hpp).
//
// A control socket pair is made when the host process starts: the host
// answers on it once (a hello frame: what it loaded), and then receives one
// end of a new socket pair per connection the daemon opens (SCM_RIGHTS).
// When the daemon goes, the control socket reads EOF and the host exits.
//
// On a connection, one call at a time:
//   daemon -> host   'C'  op name, '\n', the request document
//   host -> daemon   'P'  a progress event (pull, push), any number
//   daemon -> host   'X'  the caller cancelled (the plugin's cancelled() says so)
//   host -> daemon   'R'  {"status","detail","message"}, '\n', the result document
// Each frame is one type byte, a 4-byte little-endian length and the payload.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace ctr::pluginhost::wire {

inline constexpr char kHello = 'H';
inline constexpr char kCall = 'C';
inline constexpr char kProgress = 'P';
inline constexpr char kCancel = 'X';
inline constexpr char kResult = 'R';

// A frame longer than this is a broken peer (the sink's own limit is 64 MiB).
inline constexpr size_t kMaxFrame = (64u << 20) + 4096;

struct Frame {
    char type = 0;
    std::string payload;
};

enum class ReadStatus { ok, eof, timeout, bad };

using Clock = std::chrono::steady_clock;

// The payload of a result frame: {"status","detail","message"}, '\n', the result.
std::string result_payload(int32_t status, int32_t detail, const std::string& message, std::string_view result);

// Writes one frame (no SIGPIPE). False when the peer is gone.
bool write_frame(int fd, char type, std::string_view payload);

// Reads one frame before `deadline`. `tick`, when set, runs about every
// 100 ms while nothing arrives (the caller's cancel check).
ReadStatus read_frame(int fd, Clock::time_point deadline, Frame* out, const std::function<void()>& tick = {});

}  // namespace ctr::pluginhost::wire
