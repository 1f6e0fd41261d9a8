// runtime-linux: containers through an OCI runtime binary. The plugin runs
// inside the per-container shim, which it makes a child subreaper: the
// container's first process (and every exec'd one) is re-parented to the
// shim when the OCI runtime exits, so the shim can wait for it and read its
// exit code.
#pragma once

#include "known_flaws.hpp"
#include "oci_cli.hpp"

#include <ctr/sdk/plugin.hpp>

#include <map>
#include <mutex>
#include <string>

namespace runtime_linux {

using ctr::sdk::json;

class Runtime : public ctr::sdk::Runtime {
public:
    using ctr::sdk::Runtime::Runtime;

    ctr::Status init() override;
    ctr::Result<json> create(const json& req) override;
    ctr::Result<json> start(const json& req) override;
    ctr::Result<json> kill(const json& req) override;
    ctr::Result<json> state(const json& req) override;
    ctr::Result<json> wait(const json& req) override;
    ctr::Result<json> remove(const json& req) override;
    ctr::Result<json> exec(const json& req) override;
    ctr::Result<json> stats(const json& req) override;
    // ABI 1.2: the OCI runtime's pause, resume and update (cgroup freezer, limits).
    ctr::Result<json> pause(const json& req) override;
    ctr::Result<json> resume(const json& req) override;
    ctr::Result<json> update(const json& req) override;
    // ABI 1.4: the processes of the container's PID namespace (or cgroup).
    ctr::Result<json> processes(const json& req) override;

private:
    struct Process {
        pid_t pid = 0;
        bool exited = false;
        int exit_code = 0, signal = 0;
    };
    // The runtime's view; "not found" when it does not know the id.
    ctr::Result<json> oci_state(const std::string& id);
    ctr::Status check_id(const std::string& id) const;
    void reap(Process& p, bool block);

    OciBinary binary_;
    KnownFlaws flaws_;              // asked once, the first time a container could be reached by one
    std::once_flag flaws_asked_;
    // crun, under the daemon (CONTAINER_OWN_BUNDLES: not container-oci), and
    // the setting precompile_seccomp not false (seccomp_bpf.hpp).
    bool precompile_seccomp_ = false;
    std::mutex mu_;
    std::map<std::string, Process> inits_;                      // by container id
    std::map<std::string, std::map<std::string, Process>> execs_;  // by container id, exec id
};

}  // namespace runtime_linux
