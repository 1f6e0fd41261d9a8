// Health checks (run --health-cmd, compose's healthcheck): the daemon runs a
// container's check inside it through an exec, every `interval`, and keeps
// the outcome in <container dir>/health.json:
//   {"status": "starting"|"healthy"|"unhealthy", "failing_streak",
//    "log": [{"start", "end", "exit_code", "output"}] (the last five)}.
// Docker's rules: "starting" until the first success; failures during
// `start_period` do not count; `retries` failures in a row make it
// "unhealthy"; one success makes it "healthy" again.
#pragma once

#include "apiserver/containers.hpp"

#include <future>
#include <map>

namespace ctr::apiserver {

class Health {
public:
    explicit Health(Containers& containers) : cs_(containers) {}
    ~Health();  // waits for checks in flight
    Health(const Health&) = delete;
    Health& operator=(const Health&) = delete;

    // Starts the checks that are due and records those that ended. Called by
    // the containers' watcher (Containers::start_watcher) with what it just
    // looked at: no second pass over the containers.
    void tick(const std::vector<store::ContainerRecord>& containers);
    // The "health" object for a container's json: its file, "starting" while
    // running without one yet, or null when it has no check.
    static nlohmann::json of(const store::ContainerRecord& c, const std::filesystem::path& dir);

private:
    struct Check {
        int exit_code = -1;
        std::string output;
    };
    struct Track {
        int64_t started_at = 0;       // the run this track belongs to
        double next_due = 0;          // monotonic seconds
        double check_started = 0;     // wall clock, for the log
        std::future<Check> running;   // a check in flight
        bool timed_out = false;       // it overran its timeout and was counted as failed
    };
    void record(const store::ContainerRecord& c, const nlohmann::json& hc, const Check& result, double start, double end);

    Containers& cs_;
    std::map<std::string, Track> tracks_;  // the watcher's thread only
};

}  // namespace ctr::apiserver
