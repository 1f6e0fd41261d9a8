// The flags `run` and `create` share, and the create request they make:
// everything the caller's context resolves (env files, relative binds,
// seccomp profile files) is resolved here, before the daemon sees it.
#pragma once

#include "cli/attach.hpp"

#include <ctr/sdk/result.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ctr::cli {

struct RunFlags {
    std::string name, workdir, user, hostname, runtime, platform, memory, entrypoint, progress = "auto";
    std::string shm_size, stop_signal, cidfile, restart, pull = "missing";
    std::string detach_keys = kDefaultDetachKeys;
    std::vector<std::string> env, env_files, labels, volumes, volumes_from, tmpfs, cap_add, cap_drop, ulimits;
    std::vector<std::string> networks, aliases, dns, dns_search, dns_options, add_hosts, publish, mounts, security_opt;
    std::vector<std::string> devices, sysctls;
    std::string cgroupns;
    bool privileged = false;
    std::string ip, mac;
    std::string health_cmd, health_interval, health_timeout, health_start_period;
    int64_t health_retries = 0;
    bool no_healthcheck = false;
    double cpus = 0;
    bool detach = false, remove = false, read_only = false, interactive = false, tty = false, sig_proxy = true, init = false;
    int max_downloads = 0;
    int64_t pids_limit = 0, stop_timeout = -1;
    // The finer controls (services/tuning.hpp).
    std::string memory_reservation, memory_swap, cpuset_cpus, cpuset_mems, oom_score_adj, pid, ipc, uts;
    int64_t cpu_shares = 0;
    std::vector<std::string> group_add, annotations, label_files, expose;
    std::string log_driver;                 // services/log_options.hpp
    std::vector<std::string> log_opts;
    bool publish_all = false;
    std::string image;
    std::vector<std::string> command;
};

void add_run_flags(CLI::App* cmd, RunFlags& f);

// The create request (POST /v1/containers) of these flags.
Result<nlohmann::json> request_of(const RunFlags& f);

}  // namespace ctr::cli
