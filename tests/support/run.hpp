// Helpers for integration tests: run the built binaries.
#pragma once

#include <ctr/sys/process.hpp>
#include "tempdir.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace ctr::test {

std::filesystem::path build_root();   // $CTR_BUILD_ROOT
std::string env_or_empty(const char* name);
// A file's text; "" when it cannot be read.
std::string file_text(const std::filesystem::path& file);

struct Run {
    int code = -1;
    std::string out, err;
};

// GET http://ip:port/ (HTTP/1.0, 5 s timeouts): the body, or "" when nothing answered.
std::string http_get(const std::string& ip, int port);

// Runs a binary from the build tree (path relative to it) with args and extra env.
Run run(const std::string& binary, const std::vector<std::string>& args,
        const std::vector<std::string>& env = {}, int timeout_ms = 120000);

// The docker CLI: Debian's /usr/bin/docker, or the client alone that
// scripts/install-deps.sh takes out of Debian's package; "" when neither.
std::string docker_cli();

// The first line of a file of PID's cgroup: `v1_file` in the v1 hierarchy
// that has `controller`, else `v2_file` in its unified cgroup; "" if neither.
std::string cgroup_file(int pid, const std::string& controller, const std::string& v1_file, const std::string& v2_file);

}  // namespace ctr::test

namespace ctr::test {

// A throwaway root with a daemon started by the CLI; stopped (and, if it
// will not stop, killed by the pid it wrote) when the object dies.
class DaemonRoot {
public:
    DaemonRoot();
    ~DaemonRoot();
    DaemonRoot(const DaemonRoot&) = delete;
    DaemonRoot& operator=(const DaemonRoot&) = delete;

    std::string root() const { return dir_.path().string(); }
    const std::filesystem::path& path() const { return dir_.path(); }
    // `container --root ROOT args...`
    Run cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) const;
    // `container logs NAME` once it holds `want` (a process started with
    // `run -d` may not have written yet), or as it is after `timeout_ms`.
    std::string logs_when(const std::string& name, const std::string& want, int timeout_ms = 20000) const;
    int daemon_pid() const;  // from the pid file; 0 when none
    void start(const std::vector<std::string>& env = {});
    void kill9();            // SIGKILL to the daemon, then wait for it to be gone
    std::string daemon_log() const;  // the daemon's log file, for failure messages
    // Removes the bridges, veths and nftables table that the root's network
    // state still names; answers how many networks and tables it found.
    int release_network_leftovers() const;
    // OCI runtime state directories and container cgroups of this root that
    // are still there; the cgroup parent the daemon said it uses for this
    // root (empty when no daemon ran).
    std::vector<std::string> runtime_leftovers() const;
    std::string cgroup_parent() const;

private:
    ScratchDir dir_;
    mutable std::string cgroup_parent_;
};

// `inspect NAME`'s object; the command must succeed.
nlohmann::json inspect(const DaemonRoot& r, const std::string& name);
// The pid of container NAME's process (inspect's .State.Pid).
int pid_of(const DaemonRoot& r, const std::string& name);
// The stderr of a command that must fail as an engine error: exit 125 and a
// single line.
std::string error_of(const DaemonRoot& r, const std::vector<std::string>& args);

}  // namespace ctr::test
