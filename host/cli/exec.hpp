// Running a process in a running container: streamed (stdout and stderr
// apart), attached (-i/-t, through a pty when -t) or detached (-d).
#pragma once

#include "api/client.hpp"

#include <string>
#include <vector>

namespace ctr::cli {

struct ExecOptions {
    std::vector<std::string> cmd, env;
    std::string workdir, user;
    bool interactive = false, tty = false, detach = false;
    std::string detach_keys = "ctrl-p,ctrl-q";  // with -i: docker's format (cli/attach.hpp)
};

// Returns the process's exit code, or 125/126/127 as Docker does.
int exec_in(const api::Client& client, const std::string& container, const ExecOptions& options);

}  // namespace ctr::cli
