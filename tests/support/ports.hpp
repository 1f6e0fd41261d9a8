// TCP ports for tests, on 127.0.0.1 unless told: one held (a listener of
// ours, so that nothing else can have it while the test needs it taken) or
// one free now.
#pragma once

#include <ctr/sys/unique_fd.hpp>

#include <string>

namespace ctr::test {

struct HeldPort {
    sys::UniqueFd fd;  // listening; the port is ours while it is open
    int port = 0;
};

// Listens on a port the kernel chooses; fails the test when it cannot.
HeldPort hold_port(const std::string& address = "127.0.0.1");

// One line (without its newline) from the first connection to `held`,
// waiting at most `timeout_ms` for it; "" when none came.
std::string accept_line(const HeldPort& held, int timeout_ms);

// A port nothing listens on now (held, then let go).
int free_port();

}  // namespace ctr::test
