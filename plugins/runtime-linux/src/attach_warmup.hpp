// AttachWarmup: starts, in the background, the kernel's slow first step of
// moving a process between cgroup v1 hierarchies, so that the OCI runtime's
// own move of the container's process finds it done.
//
// Why: on cgroup v1, a write to cgroup.procs takes a global lock whose first
// writer after a quiet spell waits for an RCU grace period (10-15 ms on these
// hosts; cgroup2's favordynmods mount option removes it, but that is host
// state and not ours to change). Writers that come while it is warm do not
// wait. Our own process is "moved" to the cgroup it is already in (writing
// "0" means the writer): nothing changes but the lock's state, and the wait
// overlaps the runtime's start-up instead of adding to it.
#pragma once

#include <thread>

namespace runtime_linux {

class AttachWarmup {
public:
    AttachWarmup();  // does nothing where no v1 hierarchy is ours to write
    ~AttachWarmup();  // joins
    AttachWarmup(const AttachWarmup&) = delete;
    AttachWarmup& operator=(const AttachWarmup&) = delete;

private:
    std::thread thread_;
};

}  // namespace runtime_linux
