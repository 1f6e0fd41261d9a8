// TCP ports on 127.0.0.1 for tests: one held (a listener of ours, so that
// nothing else can have it while the test needs it taken) or one free now.
#pragma once

#include <ctr/sys/unique_fd.hpp>

namespace ctr::test {

struct HeldPort {
    sys::UniqueFd fd;  // listening; the port is ours while it is open
    int port = 0;
};

// Listens on a port the kernel chooses; fails the test when it cannot.
HeldPort hold_port();

// A port nothing listens on now (held, then let go).
int free_port();

}  // namespace ctr::test
