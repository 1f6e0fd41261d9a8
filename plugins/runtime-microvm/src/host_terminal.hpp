// A VM container's terminal, host side. The shim expects what an OCI
// runtime gives: a pty master on its console socket. We make a host pty,
// send its master there and keep the slave, in raw mode so that bytes pass
// untouched: the guest's own pty (the agent's) does echo and line editing.
// Guest output goes into the slave; what the shim writes to the master is
// read from the slave and sent as the process's stdin; size changes the
// shim makes on the master are passed to the guest.
#pragma once

#include "channel.hpp"

#include <ctr/sys/unique_fd.hpp>

#include <ctr/sdk/result.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <utility>

namespace microvm {

class HostTerminal {
public:
    // Makes the pair and sends the master to `console_socket`.
    static ctr::Result<std::unique_ptr<HostTerminal>> open(const std::string& console_socket);
    ~HostTerminal();
    // Where the guest process's output goes (a copy of the slave).
    ctr::Result<ctr::sys::UniqueFd> output() const;
    // The size the shim gave the terminal (0 x 0 before it did); `set` sizes it.
    std::pair<int, int> size() const;
    void set_size(int rows, int cols) const;
    // Starts passing input and size changes to `stream` on `channel`.
    void relay(Channel& channel, uint32_t stream);

private:
    HostTerminal() = default;
    ctr::sys::UniqueFd slave_, stop_read_, stop_write_;
    std::thread thread_;
};

}  // namespace microvm
