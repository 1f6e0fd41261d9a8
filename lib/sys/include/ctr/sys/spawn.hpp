// Starting a program: posix_spawn (never fork without exec in the daemon),
// stdio from files or fds, chosen fds passed on, every other fd closed in
// the child, signals unblocked, optionally in a session of its own.
#pragma once

#include <ctr/sdk/result.hpp>

#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace ctr::sys {

struct SpawnOptions {
    int stdin_fd = -1;                     // else stdin_path
    std::string stdin_path = "/dev/null";
    int stdout_fd = -1;                    // else stdout_path
    std::string stdout_path = "/dev/null";
    int stderr_fd = -1;                    // else stderr_path; empty: the same as stdout
    std::string stderr_path = "/dev/null";
    bool truncate = false;                 // files opened for output are truncated, not appended to
    std::vector<std::pair<int, int>> pass_fds;  // {our fd, the child's fd}, above 2
    bool new_session = false;              // setsid: no signal from our terminal or session reaches it
    std::vector<std::string> env;          // "K=V" added to (or replacing in) our environment
    std::string cwd;                       // "": ours
    std::string netns;                     // "": ours; else the network namespace pinned there
};

// argv[0] is an absolute path. Returns the child's pid; the caller reaps it.
// An absolute path as given if it exists, else the first match on PATH,
// then in the sbin folders (missing from an ordinary user's PATH); "" when
// there is none.
std::string find_program(const std::string& name);

Result<pid_t> spawn(const std::vector<std::string>& argv, const SpawnOptions& options);

}  // namespace ctr::sys
