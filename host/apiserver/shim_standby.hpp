// ShimStandby: one container-shim started ahead of need for the default
// runtime, its plugin loaded, waiting for the container it is to run. A start
// hands it its arguments instead of spawning a shim, which takes the shim's
// exec, linking and plugin loading (about 3 ms) off the path of every `run`.
// A worker thread starts the next one after each hand-over.
//
// The standby gets fd 3, the sync pipe a shim reports its start on (as a
// spawned shim's), and fd 4, a socket its assignment comes on. Closing fd
// 4's other end (at shutdown) tells it it is not needed; it exits.
#pragma once

#include <ctr/base/paths.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace ctr::apiserver {

class ShimStandby {
public:
    ShimStandby(Paths paths, std::string runtime);
    ~ShimStandby();  // lets the waiting shim go and reaps it; joins the worker
    ShimStandby(const ShimStandby&) = delete;
    ShimStandby& operator=(const ShimStandby&) = delete;

    struct Taken {
        pid_t pid;
        sys::UniqueFd sync;  // the read end of its fd 3
    };
    // For a container of `runtime`: hands `args` (argv[0] included, with
    // "--sync-fd 3") and the shim's log path to the waiting shim, and starts
    // the next one. Nothing when none is ready or the runtime is another.
    std::optional<Taken> take(const std::string& runtime, const std::vector<std::string>& args, const std::string& log);
    void kick();  // makes sure one is being made ready

private:
    struct Waiting {
        pid_t pid = -1;
        sys::UniqueFd sync, assign;
    };
    void run();
    std::optional<Waiting> spawn_one() const;

    const Paths paths_;
    const std::string runtime_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::optional<Waiting> ready_;
    bool wanted_ = false, stop_ = false;
    std::thread worker_;
};

}  // namespace ctr::apiserver
