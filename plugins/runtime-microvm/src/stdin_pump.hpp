// Copies a process's stdin (an fd the shim gave) into the agent channel as
// STDIN frames, then STDIN_EOF at its end. Stops when destroyed, even while
// the fd has nothing to read: no thread outlives what it writes to.
#pragma once

#include "channel.hpp"

#include <ctr/sys/unique_fd.hpp>

#include <thread>

namespace microvm {

class StdinPump {
public:
    StdinPump() = default;
    ~StdinPump();
    // Starts copying `in` (which it takes) to `stream` on `channel`.
    void start(ctr::sys::UniqueFd in, Channel& channel, uint32_t stream);

private:
    ctr::sys::UniqueFd in_, stop_read_, stop_write_;
    std::thread thread_;
};

}  // namespace microvm
