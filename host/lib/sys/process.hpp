// Child processes: spawned with posix_spawn (never fork without exec), always
// reaped, killed when a deadline passes.
#pragma once

#include <ctr/sdk/result.hpp>

#include <string>
#include <vector>

namespace ctr::sys {

struct ExitStatus {
    int code = -1;        // exit code, when it exited
    int signal = 0;       // the signal that killed it, when killed
    bool timed_out = false;

    bool success() const { return !timed_out && signal == 0 && code == 0; }
    // "exited with code 3", "killed by signal 11 (Segmentation fault)", "timed out after 5000 ms"
    std::string describe(int timeout_ms = 0) const;
};

struct Captured {
    ExitStatus status;
    std::string out;  // what the child wrote to stdout (stderr goes to /dev/null)
};

// Runs argv[0] (an absolute path) with stdin and stderr on /dev/null, and
// collects stdout. After timeout_ms the child is killed with SIGKILL.
Result<Captured> run_capture(const std::vector<std::string>& argv, int timeout_ms);

}  // namespace ctr::sys
