#include "cli/run_flags.hpp"

#include <ctr/base/units.hpp>
#include "cli/attach.hpp"
#include "cli/env_args.hpp"
#include "cli/output.hpp"
#include "services/spec.hpp"
#include <ctr/sys/files.hpp>

#include <sstream>

namespace ctr::cli {

namespace {

void add_tuning_flags(CLI::App* cmd, RunFlags& f) {
    cmd->add_option("--memory-reservation", f.memory_reservation, "a soft memory limit, e.g. 256m");
    cmd->add_option("--memory-swap", f.memory_swap, "memory plus swap, e.g. 1g (-1: unlimited swap); needs --memory");
    cmd->add_option("--cpu-shares", f.cpu_shares, "relative CPU weight (1024 is the default)");
    cmd->add_option("--cpuset-cpus", f.cpuset_cpus, "CPUs it may run on, e.g. 0-1,3");
    cmd->add_option("--cpuset-mems", f.cpuset_mems, "memory nodes it may use, e.g. 0");
    cmd->add_option("--oom-score-adj", f.oom_score_adj, "the OOM killer's preference, -1000 to 1000");
    cmd->add_option("--group-add", f.group_add, "another group of the process (a name from the image, or a number)")->allow_extra_args(false);
    cmd->add_option("--annotation", f.annotations, "an OCI annotation KEY=VALUE for the runtime")->allow_extra_args(false);
    cmd->add_option("--label-file", f.label_files, "a file of KEY=VALUE label lines")->allow_extra_args(false);
    cmd->add_option("--pull", f.pull, "missing (pull when not here), always (pull first) or never")
        ->check(CLI::IsMember({"missing", "always", "never"}));
    cmd->add_option("--pid", f.pid, "PID namespace: host, or container:NAME to share another's");
    cmd->add_option("--ipc", f.ipc, "IPC namespace: host, or container:NAME to share another's");
    cmd->add_option("--uts", f.uts, "UTS namespace (hostname): host");
    cmd->add_option("--log-driver", f.log_driver, "json-file (the default), local or k8s-file: output kept in files either way");
    cmd->add_option("--log-opt", f.log_opts, "max-size=SIZE (default 20m; -1: no bound) or max-file=N (default 5): each stream keeps about SIZE*N bytes")
        ->allow_extra_args(false);
}

// KEY=VALUE lines (# comments and blank lines skipped) into `into`.
Status read_pairs(const std::string& file, const char* flag, nlohmann::json& into) {
    auto text = sys::read_file(file);
    if (!text) return text.error().wrap(flag);
    std::istringstream in(*text);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        auto eq = line.find('=');
        if (eq == std::string::npos || eq == 0)
            return make_error(CTR_E_INVALID_ARGUMENT, std::string(flag) + " " + file + ":" + std::to_string(n) + ": \"" + line + "\" is not KEY=VALUE");
        into[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return ok();
}

Status tuning_into(const RunFlags& f, nlohmann::json& body) {
    if (!f.memory_reservation.empty()) body["memory_reservation"] = CTR_TRY(parse_size(f.memory_reservation, "--memory-reservation"));
    if (f.memory_swap == "-1") body["memory_swap"] = -1;
    else if (!f.memory_swap.empty()) body["memory_swap"] = CTR_TRY(parse_size(f.memory_swap, "--memory-swap"));
    if (f.cpu_shares != 0) body["cpu_shares"] = f.cpu_shares;
    if (!f.cpuset_cpus.empty()) body["cpuset_cpus"] = f.cpuset_cpus;
    if (!f.cpuset_mems.empty()) body["cpuset_mems"] = f.cpuset_mems;
    if (!f.oom_score_adj.empty()) {
        size_t used = 0;
        long v = 0;
        try {
            v = std::stol(f.oom_score_adj, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != f.oom_score_adj.size()) return make_error(CTR_E_INVALID_ARGUMENT, "--oom-score-adj \"" + f.oom_score_adj + "\": want a whole number");
        body["oom_score_adj"] = v;
    }
    if (!f.group_add.empty()) body["group_add"] = f.group_add;
    nlohmann::json annotations = nlohmann::json::object();
    for (const auto& a : f.annotations) {
        auto eq = a.find('=');
        if (eq == std::string::npos || eq == 0) return make_error(CTR_E_INVALID_ARGUMENT, "--annotation: \"" + a + "\" is not KEY=VALUE");
        annotations[a.substr(0, eq)] = a.substr(eq + 1);
    }
    if (!annotations.empty()) body["annotations"] = annotations;
    for (const auto& file : f.label_files) CTR_TRY_STATUS(read_pairs(file, "--label-file", body["labels"]));
    if (!f.pid.empty()) body["pid"] = f.pid;
    if (!f.ipc.empty()) body["ipc"] = f.ipc;
    if (!f.uts.empty()) body["uts"] = f.uts;
    if (!f.log_driver.empty()) body["log_driver"] = f.log_driver;
    if (!f.log_opts.empty()) body["log_opts"] = f.log_opts;
    return ok();
}

}  // namespace

void add_run_flags(CLI::App* cmd, RunFlags& f) {
    add_tuning_flags(cmd, f);
    cmd->add_option("--name", f.name, "container name");
    // Repeatable options take one value per use, as Docker's do (CLI11 would
    // otherwise let `-e A=1 IMAGE` swallow IMAGE too).
    cmd->add_option("-e,--env", f.env, "environment variable KEY=VALUE (or KEY: the caller's value)")->allow_extra_args(false);
    cmd->add_option("--env-file", f.env_files, "file of KEY=VALUE lines")->allow_extra_args(false);
    cmd->add_option("-w,--workdir,--cwd", f.workdir, "working directory inside the container");
    cmd->add_option("-u,--user", f.user, "user: name|uid[:group|gid]");
    cmd->add_option("--entrypoint", f.entrypoint, "replaces the image's entrypoint");
    cmd->add_option("--hostname", f.hostname, "hostname inside the container");
    cmd->add_option("-l,--label", f.labels, "label key=value")->allow_extra_args(false);
    cmd->add_option("-v,--volume", f.volumes, "NAME:/dst[:ro], /host/path:/dst[:ro], or /dst (anonymous)")->allow_extra_args(false);
    cmd->add_option("--volumes-from", f.volumes_from, "CONTAINER[:ro|:rw]: the same volumes and binds at the same places")
        ->allow_extra_args(false);
    cmd->add_option("--mount", f.mounts, "type=bind|volume|tmpfs,source=...,target=...[,readonly]")->allow_extra_args(false);
    cmd->add_option("--tmpfs", f.tmpfs, "a tmpfs at /dst[:size=64m,mode=1777]")->allow_extra_args(false);
    cmd->add_flag("--read-only", f.read_only, "mount the root filesystem read-only");
    cmd->add_option("--cap-add", f.cap_add, "add a capability (or ALL)")->allow_extra_args(false);
    cmd->add_option("--cap-drop", f.cap_drop, "drop a capability (or ALL)")->allow_extra_args(false);
    cmd->add_option("--security-opt", f.security_opt,
                    "seccomp=FILE|unconfined, no-new-privileges[=false], systempaths=unconfined, label=disable")
        ->allow_extra_args(false);
    cmd->add_flag("--privileged", f.privileged, "every capability and device, no seccomp, writable /sys: the host's root, unconfined");
    cmd->add_option("--device", f.devices, "a host device in the container: HOST[:CONTAINER][:rwm]")->allow_extra_args(false);
    cmd->add_option("--sysctl", f.sysctls, "a namespaced kernel parameter, e.g. net.ipv4.ip_forward=1")->allow_extra_args(false);
    cmd->add_option("--cgroupns", f.cgroupns, "cgroup namespace: private or host (default: private on cgroup v2)")
        ->check(CLI::IsMember({"private", "host"}));
    cmd->add_option("--pids-limit", f.pids_limit, "most processes at once (-1: unlimited)");
    cmd->add_option("--ulimit", f.ulimits, "type=soft[:hard], e.g. nofile=1024:2048")->allow_extra_args(false);
    cmd->add_option("--shm-size", f.shm_size, "size of /dev/shm, e.g. 128m");
    cmd->add_option("--stop-signal", f.stop_signal, "signal that stop sends first");
    cmd->add_option("--stop-timeout", f.stop_timeout, "seconds stop waits before SIGKILL")->check(seconds_range(-1, services::kMaxStopTimeout));
    cmd->add_option("--cidfile", f.cidfile, "write the container id to this file");
    cmd->add_option("--restart", f.restart, "no, on-failure[:N], always or unless-stopped");
    cmd->add_option("--network,--net", f.networks, "network to join (repeatable), or none, or host")->allow_extra_args(false);
    cmd->add_option("--ip", f.ip, "IPv4 address on the first network");
    cmd->add_option("--mac-address", f.mac, "MAC address on the first network");
    cmd->add_option("--network-alias", f.aliases, "another name for the container in its networks' DNS")->allow_extra_args(false);
    cmd->add_option("-p,--publish", f.publish, "[ip:]hostPort[-end]:containerPort[-end][/tcp|udp]")->allow_extra_args(false);
    cmd->add_flag("-P,--publish-all", f.publish_all, "publish the image's exposed ports and --expose ones on free host ports");
    cmd->add_option("--expose", f.expose, "a port or range -P publishes too: PORT[-END][/tcp|udp]")->allow_extra_args(false);
    cmd->add_option("--dns", f.dns, "nameserver for /etc/resolv.conf")->allow_extra_args(false);
    cmd->add_option("--dns-search", f.dns_search, "search domain for /etc/resolv.conf")->allow_extra_args(false);
    cmd->add_option("--dns-option", f.dns_options, "option for /etc/resolv.conf")->allow_extra_args(false);
    cmd->add_option("--add-host", f.add_hosts, "an /etc/hosts entry NAME:IP (IP may be host-gateway)")->allow_extra_args(false);
    cmd->add_option("--health-cmd", f.health_cmd, "a check run inside the container by /bin/sh -c (exit 0: healthy)");
    cmd->add_option("--health-interval", f.health_interval, "time between checks (default 30s)");
    cmd->add_option("--health-timeout", f.health_timeout, "a check that takes longer fails (default 30s)");
    cmd->add_option("--health-retries", f.health_retries, "failures in a row that make it unhealthy (default 3)");
    cmd->add_option("--health-start-period", f.health_start_period, "failures in this time after start do not count");
    cmd->add_flag("--no-healthcheck", f.no_healthcheck, "no health check");
    cmd->add_option("--runtime", f.runtime, "runtime plugin (default from the system config)");
    cmd->add_option("--platform", f.platform, "os/arch[/variant] to pull");
    cmd->add_option("-m,--memory", f.memory, "memory limit, e.g. 512m");
    cmd->add_option("-c,--cpus", f.cpus, "CPU limit, e.g. 1.5");
    cmd->add_flag("--rm,--remove", f.remove, "remove the container when it exits");
    cmd->add_flag("-i,--interactive", f.interactive, "keep stdin open and connected to the container");
    cmd->add_flag("-t,--tty", f.tty, "give the container a terminal");
    cmd->add_option("--detach-keys", f.detach_keys, "keys that detach from -i and leave it running (default ctrl-p,ctrl-q; \"\" for none)");
    cmd->add_flag("--init", f.init, "run a small init (tini) as PID 1: it reaps orphans and passes signals on");
    cmd->add_option("--progress", f.progress, "pull progress: auto, plain or none")->check(CLI::IsMember({"auto", "plain", "none"}));
    cmd->add_option("--max-concurrent-downloads", f.max_downloads, "layers downloaded at once")->check(CLI::Range(1, 32));
    cmd->add_option("image", f.image, "image reference")->required();
    // Everything after IMAGE belongs to the container, flags included:
    // main() puts a "--" after IMAGE before parsing (see end_options_after_image).
    cmd->add_option("command", f.command, "command and arguments (default: the image's)");
}

Result<nlohmann::json> request_of(const RunFlags& f) {
    nlohmann::json env = nlohmann::json::array();
    for (const auto& file : f.env_files) {
        auto text = sys::read_file(file);
        if (!text) return text.error().wrap("--env-file");
        for (auto& e : CTR_TRY(parse_env_file(*text, file))) env.push_back(std::move(e));
    }
    for (auto& e : resolve_env(f.env)) env.push_back(std::move(e));
    nlohmann::json labels = nlohmann::json::object();
    for (const auto& l : f.labels) {
        auto eq = l.find('=');
        if (eq == std::string::npos || eq == 0) return make_error(CTR_E_INVALID_ARGUMENT, "--label: \"" + l + "\" is not key=value");
        labels[l.substr(0, eq)] = l.substr(eq + 1);
    }
    nlohmann::json body = {{"image", f.image}, {"cmd", f.command}, {"env", env}, {"labels", nlohmann::json::object()}, {"rm", f.remove},
                           {"volumes", nlohmann::json::array()}};
    CTR_TRY_STATUS(tuning_into(f, body));  // --label-file first: a -l of the same key wins
    for (const auto& [k, v] : labels.items()) body["labels"][k] = v;
    for (const auto& v : f.volumes) body["volumes"].push_back(absolute_volume_source(v));
    body["volumes_from"] = f.volumes_from;
    if (!f.name.empty()) body["name"] = f.name;
    if (!f.workdir.empty()) body["workdir"] = f.workdir;
    if (!f.user.empty()) body["user"] = f.user;
    if (!f.hostname.empty()) body["hostname"] = f.hostname;
    if (!f.runtime.empty()) body["runtime"] = f.runtime;
    if (!f.entrypoint.empty()) body["entrypoint"] = nlohmann::json::array({f.entrypoint});
    if (!f.memory.empty()) body["memory"] = CTR_TRY(parse_size(f.memory, "--memory"));
    if (f.cpus < 0) return make_error(CTR_E_INVALID_ARGUMENT, "--cpus: must not be negative");
    body["read_only"] = f.read_only;
    body["tmpfs"] = f.tmpfs;
    body["mounts"] = nlohmann::json::array();
    for (const auto& m : f.mounts) body["mounts"].push_back(absolute_mount_source(m));
    body["cap_add"] = f.cap_add;
    body["cap_drop"] = f.cap_drop;
    body["privileged"] = f.privileged;
    body["devices"] = f.devices;
    body["sysctls"] = f.sysctls;
    if (!f.cgroupns.empty()) body["cgroupns"] = f.cgroupns;
    body["security_opt"] = nlohmann::json::array();
    for (const auto& o : f.security_opt) body["security_opt"].push_back(CTR_TRY(resolve_security_opt(o)));
    body["ulimits"] = f.ulimits;
    body["tty"] = f.tty;
    body["interactive"] = f.interactive;
    body["init"] = f.init;
    body["networks"] = f.networks;
    if (!f.ip.empty()) body["ip"] = f.ip;
    if (!f.mac.empty()) body["mac_address"] = f.mac;
    body["network_aliases"] = f.aliases;
    body["publish"] = f.publish;
    body["expose"] = f.expose;
    if (f.publish_all) body["publish_all"] = true;
    body["dns"] = f.dns;
    body["dns_search"] = f.dns_search;
    body["dns_options"] = f.dns_options;
    body["add_hosts"] = f.add_hosts;
    if (f.pids_limit != 0) body["pids_limit"] = f.pids_limit;
    if (!f.shm_size.empty()) body["shm_size"] = CTR_TRY(parse_size(f.shm_size, "--shm-size"));
    if (!f.stop_signal.empty()) body["stop_signal"] = f.stop_signal;
    if (f.stop_timeout >= 0) body["stop_timeout"] = f.stop_timeout;
    if (!f.restart.empty()) body["restart"] = f.restart;
    if (!f.restart.empty() && f.restart != "no" && f.remove)  // the CLI may carry out --rm itself: say it here
        return make_error(CTR_E_INVALID_ARGUMENT, "--restart and --rm cannot go together");
    if (f.cpus > 0) body["cpus"] = f.cpus;
    if (!f.health_cmd.empty() && !f.no_healthcheck) {
        nlohmann::json hc = {{"test", nlohmann::json::array({"CMD-SHELL", f.health_cmd})}};
        for (auto [flag, text, key] : {std::tuple{"--health-interval", &f.health_interval, "interval"},
                                       {"--health-timeout", &f.health_timeout, "timeout"},
                                       {"--health-start-period", &f.health_start_period, "start_period"}})
            if (!text->empty()) hc[key] = CTR_TRY(parse_duration(*text, flag));
        if (f.health_retries != 0) hc["retries"] = f.health_retries;
        body["healthcheck"] = hc;
    } else if (!f.no_healthcheck && (!f.health_interval.empty() || !f.health_timeout.empty() || f.health_retries != 0)) {
        return make_error(CTR_E_INVALID_ARGUMENT, "--health-interval, --health-timeout and --health-retries need --health-cmd");
    }
    return body;
}

}  // namespace ctr::cli
