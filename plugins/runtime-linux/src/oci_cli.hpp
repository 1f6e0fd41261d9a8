// Driving an OCI runtime binary (crun or runc) through its command line.
//
// crun refuses to run on hosts with "hybrid" cgroups (v1 controllers plus a
// cgroup2 mount that still offers a controller). Such hosts are fixed per
// call, without touching global state: the runtime runs in a private mount
// namespace in which /sys/fs/cgroup/unified is unmounted, so that it sees a
// plain cgroup v1 host.
#pragma once

#include <ctr/sdk/result.hpp>

#include <string>
#include <vector>

namespace runtime_linux {

struct OciBinary {
    std::string path;        // absolute
    std::string state_root;  // --root: where the binary keeps its container state
    bool hide_unified = false;
    std::vector<std::string> global_args;  // before the command, after --root and --log
    std::string name() const { return path.substr(path.rfind('/') + 1); }
};

struct OciRun {
    int exit_code = -1;
    std::string out;    // stdout, when captured
    std::string error;  // the runtime's own error message (its --log), one line
};

struct Stdio {
    int in = -1, out = -1, err = -1;  // -1: /dev/null for stdin, captured for stdout, log for stderr
    // fds 3 .. 3+preserve-1 of this process stay open in the runtime (its
    // --preserve-fds passes them on to the container); every other is closed.
    int preserve = 0;
};

// Runs `binary --root R --log L <args...>` and waits for it. With `stdio`
// set, those fds become its (and, for create/exec, the container's) stdio.
ctr::Result<OciRun> run_oci(const OciBinary& binary, const std::vector<std::string>& args, const Stdio& stdio = {});

}  // namespace runtime_linux
