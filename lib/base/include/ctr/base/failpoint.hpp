// Failpoints: named places in a state change where a test can make the
// daemon die as if killed with SIGKILL (CONTAINER_FAILPOINT=<name>), to prove
// that a restart finds nothing half-made. Costs one comparison when unset.
#pragma once

#include <csignal>
#include <cstdlib>
#include <cstring>

namespace ctr {

inline void failpoint(const char* name) {
    static const char* armed = std::getenv("CONTAINER_FAILPOINT");
    if (armed && std::strcmp(armed, name) == 0) std::raise(SIGKILL);
}

}  // namespace ctr
