// Finding an exec's program in a running container before the OCI runtime
// runs it, as runc does: crun finds out only in the child it made, which
// reports the failure twice (on the process's own stderr, and as its exit),
// and `exec -d` would not hear of it at all.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <sys/types.h>

namespace runtime_linux {

// `process` is the OCI process object (args, env, cwd). The program is
// looked up inside the root of `pid` (the container's first process), with
// every symlink resolved in that root: PATH from process.env (or the usual
// default) when args[0] has no "/", else the path itself (relative to cwd).
// CTR_E_NOT_FOUND when it is not there, CTR_E_PERMISSION_DENIED when it is
// no executable file.
ctr::Status find_executable(pid_t pid, const nlohmann::json& process);

}  // namespace runtime_linux
