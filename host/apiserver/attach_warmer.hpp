// AttachWarmer: gets the kernel's slow first step of moving a process between
// cgroups out of the way while a container is being created and its shim
// starts, so that the OCI runtime's own move of the container's process
// finds it done.
//
// Why: on cgroup v1, a write to cgroup.procs takes a global lock whose first
// writer after a quiet spell waits for an RCU grace period (5-15 ms on these
// hosts; measured inside `crun create`). Writers that come while it is warm do
// not wait. cgroup2's favordynmods mount option removes the wait, but mounts
// are host state and not ours to change. The warmer "moves" the daemon into
// the cgroup it is already in (writing "0" names the writer): nothing changes
// but the lock's state, and the wait overlaps work that happens anyway.
// Where there is no v1 hierarchy, it does nothing.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace ctr::apiserver {

class AttachWarmer {
public:
    AttachWarmer();
    ~AttachWarmer();  // joins its thread
    AttachWarmer(const AttachWarmer&) = delete;
    AttachWarmer& operator=(const AttachWarmer&) = delete;

    void kick();  // never blocks; kicks while one warm-up runs fold into it

private:
    void run();

    std::string procs_;  // our cgroup.procs in a v1 hierarchy; empty: nothing to do
    std::mutex mu_;
    std::condition_variable cv_;
    bool kicked_ = false, stop_ = false;
    std::thread thread_;
};

}  // namespace ctr::apiserver
