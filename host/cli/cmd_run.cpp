// `container run|create|start|stop|kill|logs|wait`.
#include <ctr/base/units.hpp>
#include "cli/app.hpp"
#include "cli/attach.hpp"
#include "cli/env_args.hpp"
#include "cli/exec.hpp"
#include "cli/output.hpp"
#include "services/spec.hpp"
#include <ctr/sys/files.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <fstream>
#include <optional>
#include <thread>

namespace ctr::cli {

namespace {

struct RunFlags {
    std::string name, workdir, user, hostname, runtime, platform, memory, entrypoint, progress = "auto";
    std::string shm_size, stop_signal, cidfile, restart;
    std::string detach_keys = kDefaultDetachKeys;
    std::vector<std::string> env, env_files, labels, volumes, tmpfs, cap_add, cap_drop, ulimits;
    std::vector<std::string> networks, aliases, dns, dns_search, dns_options, add_hosts, publish, mounts, security_opt;
    std::string ip, mac;
    std::string health_cmd, health_interval, health_timeout, health_start_period;
    int64_t health_retries = 0;
    bool no_healthcheck = false;
    double cpus = 0;
    bool detach = false, remove = false, read_only = false, interactive = false, tty = false, sig_proxy = true, init = false;
    int max_downloads = 0;
    int64_t pids_limit = 0, stop_timeout = -1;
    std::string image;
    std::vector<std::string> command;
};

void add_run_flags(CLI::App* cmd, RunFlags& f) {
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
    cmd->add_option("--mount", f.mounts, "type=bind|volume|tmpfs,source=...,target=...[,readonly]")->allow_extra_args(false);
    cmd->add_option("--tmpfs", f.tmpfs, "a tmpfs at /dst[:size=64m,mode=1777]")->allow_extra_args(false);
    cmd->add_flag("--read-only", f.read_only, "mount the root filesystem read-only");
    cmd->add_option("--cap-add", f.cap_add, "add a capability (or ALL)")->allow_extra_args(false);
    cmd->add_option("--cap-drop", f.cap_drop, "drop a capability (or ALL)")->allow_extra_args(false);
    cmd->add_option("--security-opt", f.security_opt,
                    "seccomp=FILE|unconfined, no-new-privileges[=false], systempaths=unconfined, label=disable")
        ->allow_extra_args(false);
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
    nlohmann::json body = {{"image", f.image}, {"cmd", f.command}, {"env", env}, {"labels", labels}, {"rm", f.remove},
                           {"volumes", nlohmann::json::array()}};
    for (const auto& v : f.volumes) body["volumes"].push_back(absolute_volume_source(v));
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

// Creates the container, pulling its image first when the daemon has none.
Result<nlohmann::json> create_container(api::Client& client, const RunFlags& f) {
    auto body = CTR_TRY(request_of(f));
    std::error_code ec;
    if (!f.cidfile.empty() && std::filesystem::exists(f.cidfile, ec))
        return make_error(CTR_E_ALREADY_EXISTS, "--cidfile: \"" + f.cidfile + "\" already exists");
    auto created = client.call("POST", "/v1/containers", body);
    if (!created && created.error().status == CTR_E_NOT_FOUND && created.error().message.rfind("no such image", 0) == 0) {
        std::fprintf(stderr, "Unable to find image '%s' locally\n", f.image.c_str());
        auto pulled = pull_image(client, f.image, f.platform, f.max_downloads, f.progress);
        if (!pulled) return pulled.error();
        body["image"] = (*pulled)["reference"];
        created = client.call("POST", "/v1/containers", body);
    }
    if (created && !f.cidfile.empty()) {
        auto st = sys::write_file_atomic(f.cidfile, (*created)["id"].get<std::string>() + "\n", 0644);
        if (!st) return st.error().wrap("--cidfile");
    }
    return created;
}

// After the detach keys: say so, and end here at once. The log followers
// are mid-read: they end with the process, not with a join.
[[noreturn]] void end_detached(const std::string& container) {
    std::fprintf(stderr, "container: detached from %s; it keeps running\n", container.c_str());
    std::fflush(nullptr);
    std::_Exit(0);
}

int exit_code_of(const Error& e) { return api::cli_exit_code(e); }

// Copies a container's stdout or stderr to ours until it ends.
// `extra`: more of the query ("&timestamps=1&since=...").
std::thread follow(const api::Client& client, const std::string& id, const char* stream, std::FILE* out, bool follow_it,
                   const std::string& tail = "all", const std::string& extra = "") {
    return std::thread([&client, id, stream, out, follow_it, tail, extra] {
        std::string target = "/v1/containers/" + id + "/logs?stream=" + stream + (follow_it ? "&follow=1" : "") + "&tail=" + tail + extra;
        (void)client.stream(target, [out](std::string_view data) {
            std::fwrite(data.data(), 1, data.size(), out);
            std::fflush(out);
            return true;
        });
    });
}

}  // namespace

static void add_run_command(CLI::App& app, Globals& g) {
    auto* run = app.add_subcommand("run", "run a command in a new container");
    static RunFlags rf;
    add_run_flags(run, rf);
    run->add_flag("-d,--detach", rf.detach, "run in the background and print the container id");
    run->add_option("--sig-proxy", rf.sig_proxy, "pass the signals this CLI gets to the container (without -t)")->default_val(true);
    on_run(run, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        // In the foreground this CLI removes the container itself, after it
        // has read all its output; detached, the daemon does it at exit.
        if (rf.remove && !rf.restart.empty() && rf.restart != "no")
            return error("--restart and --rm cannot go together");
        RunFlags flags = rf;
        auto keys = parse_detach_keys(rf.detach_keys);
        if (!keys) return fail(keys.error());
        // Without a terminal this CLI reads the output from the logs, and
        // removes the container itself once it has read all of it; with one
        // (or detached) the daemon removes it at its exit, which also serves
        // a session the detach keys leave.
        const bool remove_here = rf.remove && !rf.detach && !rf.tty;
        if (remove_here) flags.remove = false;
        auto created = create_container(*client, flags);
        if (!created) return fail(created.error());
        std::string id = (*created)["id"];
        const bool attach = !rf.detach && (rf.interactive || rf.tty);
        // Signals are passed on from before the start: the container must
        // not be running while one could still end this CLI instead.
        std::optional<SignalProxy> proxy;
        if (rf.sig_proxy && !rf.tty && !rf.detach) proxy.emplace(*client, id);
        auto started = client->call("POST", "/v1/containers/" + id + "/start" + (attach ? "?attach=1" : ""));
        if (!started) {
            int code = exit_code_of(started.error());
            fail(started.error());
            if (rf.remove) (void)client->call("DELETE", "/v1/containers/" + id + "?force=1&volumes=1");
            return code;
        }
        print_warnings(*started);
        if (rf.detach) {
            std::printf("%s\n", id.c_str());
            return 0;
        }
        // A terminal's output comes through the attach stream; without one,
        // stdout and stderr come apart, from the logs.
        std::thread out, err;
        if (!rf.tty) {
            out = follow(*client, id, "stdout", stdout, true);
            err = follow(*client, id, "stderr", stderr, true);
        }
        if (attach) {
            auto end = attach_session(*client, id, rf.interactive, rf.tty, "", *keys);
            if (!end) fail(end.error());
            else if (*end == SessionEnd::detached) end_detached(id.substr(0, 12));
        }
        auto waited = client->call("POST", "/v1/containers/" + id + "/wait");
        if (out.joinable()) out.join();
        if (err.joinable()) err.join();
        proxy.reset();
        if (remove_here) {
            if (auto rm = client->call("DELETE", "/v1/containers/" + id + "?force=1&volumes=1"); !rm) fail(rm.error());
        }
        if (!waited) return fail(waited.error());
        return (*waited)["exit_code"].get<int>();
    });
}

static void add_attach_command(CLI::App& app, Globals& g) {
    auto* att = app.add_subcommand("attach", "attach to a running container made with -i or -t; exit with its code");
    static std::string attach_id;
    static bool attach_no_stdin = false;
    att->add_option("container", attach_id, "container")->required();
    att->add_flag("--no-stdin", attach_no_stdin, "do not pass our stdin on");
    static std::string attach_keys = kDefaultDetachKeys;
    att->add_option("--detach-keys", attach_keys, "keys that detach and leave it running (default ctrl-p,ctrl-q)");
    on_run(att, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto c = client->call("GET", "/v1/containers/" + attach_id);
        if (!c) return fail(c.error());
        std::string id = (*c)["id"];
        bool tty = (*c)["config"].value("tty", false);
        bool interactive = (*c)["config"].value("interactive", false) && !attach_no_stdin;
        std::optional<SignalProxy> proxy;
        if (!tty) proxy.emplace(*client, id);
        auto keys = parse_detach_keys(attach_keys);
        if (!keys) return fail(keys.error());
        auto end = attach_session(*client, id, interactive, tty, "", *keys);
        if (!end) return fail(end.error());
        if (*end == SessionEnd::detached) end_detached(attach_id);
        auto waited = client->call("POST", "/v1/containers/" + id + "/wait");
        if (!waited) return fail(waited.error());
        return (*waited)["exit_code"].get<int>();
    });
}

static void add_create_command(CLI::App& app, Globals& g) {
    auto* create = app.add_subcommand("create", "create a container without starting it");
    static RunFlags cf;
    add_run_flags(create, cf);
    on_run(create, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto created = create_container(*client, cf);
        if (!created) return fail(created.error());
        std::printf("%s\n", (*created)["id"].get<std::string>().c_str());
        return 0;
    });
}

static void add_start_command(CLI::App& app, Globals& g) {
    auto* start = app.add_subcommand("start", "start containers");
    static std::vector<std::string> start_ids;
    static bool start_attach = false, start_interactive = false;
    start->add_option("container", start_ids, "containers")->required();
    start->add_flag("-a,--attach", start_attach, "attach to its output (and with -i its input); exit with its code");
    start->add_flag("-i,--interactive", start_interactive, "attach stdin");
    static std::string start_keys = kDefaultDetachKeys;
    start->add_option("--detach-keys", start_keys, "with -a -i: keys that detach and leave it running (default ctrl-p,ctrl-q)");
    on_run(start, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        if (start_attach || start_interactive) {
            if (start_ids.size() != 1) return error("start -a or -i takes one container");
            auto keys = parse_detach_keys(start_keys);
            if (!keys) return fail(keys.error());
            auto c = client->call("GET", "/v1/containers/" + start_ids[0]);
            if (!c) return fail(c.error());
            std::string id = (*c)["id"];
            bool tty = (*c)["config"].value("tty", false), stdin_too = start_interactive && (*c)["config"].value("interactive", false);
            bool attachable = tty || (*c)["config"].value("interactive", false);
            std::optional<SignalProxy> proxy;
            if (!tty) proxy.emplace(*client, id);
            auto r = client->call("POST", "/v1/containers/" + id + "/start" + (attachable ? "?attach=1" : ""));
            if (!r) {
                fail(r.error());
                return exit_code_of(r.error());
            }
            print_warnings(*r);
            std::thread out, err;
            if (!tty) {
                out = follow(*client, id, "stdout", stdout, true);
                err = follow(*client, id, "stderr", stderr, true);
            }
            if (attachable) {
                auto end = attach_session(*client, id, stdin_too, tty, "", *keys);
                if (!end) fail(end.error());
                else if (*end == SessionEnd::detached) end_detached(start_ids[0]);
            }
            auto waited = client->call("POST", "/v1/containers/" + id + "/wait");
            if (out.joinable()) out.join();
            if (err.joinable()) err.join();
            if (!waited) return fail(waited.error());
            return (*waited)["exit_code"].get<int>();
        }
        int rc = 0;
        for (const auto& id : start_ids) {
            auto r = client->call("POST", "/v1/containers/" + id + "/start");
            if (!r) {
                fail(r.error());
                rc = exit_code_of(r.error());
            } else {
                print_warnings(*r);
                std::printf("%s\n", id.c_str());
            }
        }
        return rc;
    });
}

static void add_stop_command(CLI::App& app, Globals& g) {
    auto* stop = app.add_subcommand("stop", "stop containers: a signal, a grace period, then SIGKILL");
    static std::vector<std::string> stop_ids;
    static int stop_time = -1;
    static std::string stop_signal;
    static bool stop_all = false;
    stop->add_option("container", stop_ids, "containers");
    stop->add_option("-t,--time", stop_time, "seconds to wait before SIGKILL (default: the container's, else 10)")->check(seconds_range(0, services::kMaxStopTimeout));
    stop->add_option("-s,--signal", stop_signal, "signal to send first (default: the container's, else TERM)");
    stop->add_flag("-a,--all", stop_all, "stop every running container");
    on_run(stop, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        if (stop_all) {
            auto list = client->call("GET", "/v1/containers");
            if (!list) return fail(list.error());
            for (const auto& c : *list) stop_ids.push_back(c["id"]);
        }
        std::string q;
        if (stop_time >= 0) q += "t=" + std::to_string(stop_time);
        if (!stop_signal.empty()) q += std::string(q.empty() ? "" : "&") + "signal=" + stop_signal;
        // All at once, each with its own grace period (docker's way): the
        // slowest one sets the time, not their sum. Reported in the order given.
        std::vector<std::future<Result<nlohmann::json>>> stops;
        for (const auto& id : stop_ids)
            stops.push_back(std::async(std::launch::async, [&client, id, q] {
                return client->call("POST", "/v1/containers/" + id + "/stop" + (q.empty() ? "" : "?" + q));
            }));
        int rc = 0;
        for (size_t i = 0; i < stops.size(); ++i) {
            auto r = stops[i].get();
            if (!r) rc = fail(r.error());
            else std::printf("%s\n", stop_ids[i].c_str());
        }
        return rc;
    });
}

static void add_kill_command(CLI::App& app, Globals& g) {
    auto* kill = app.add_subcommand("kill", "send a signal to containers");
    static std::vector<std::string> kill_ids;
    static std::string kill_signal = "KILL";
    kill->add_option("container", kill_ids, "containers")->required();
    kill->add_option("-s,--signal", kill_signal, "signal (name or number)");
    on_run(kill, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        int rc = 0;
        for (const auto& id : kill_ids) {
            auto r = client->call("POST", "/v1/containers/" + id + "/kill?signal=" + kill_signal);
            if (!r) rc = fail(r.error());
            else std::printf("%s\n", id.c_str());
        }
        return rc;
    });
}

static void add_logs_command(CLI::App& app, Globals& g) {
    auto* logs = app.add_subcommand("logs", "show a container's output");
    static std::string logs_id;
    static bool logs_follow = false;
    logs->add_option("container", logs_id, "container")->required();
    logs->add_flag("-f,--follow", logs_follow, "keep following");
    static std::string logs_tail = "all", logs_since;
    static bool logs_timestamps = false;
    logs->add_option("-n,--tail", logs_tail, "only the last N lines of each stream (or all)");
    logs->add_flag("-t,--timestamps", logs_timestamps, "each line with the time it was written (RFC 3339, UTC)");
    logs->add_option("--since", logs_since, "only output written since: 2026-11-28T16:14:17Z, seconds since the epoch, or a duration (10m)");
    on_run(logs, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto c = client->call("GET", "/v1/containers/" + logs_id);
        if (!c) return fail(c.error());
        if (logs_tail != "all" && (logs_tail.empty() || logs_tail.find_first_not_of("0123456789") != std::string::npos))
            return error("--tail \"" + logs_tail + "\": want a number of lines or all");
        std::string extra = logs_timestamps ? "&timestamps=1" : "";
        if (!logs_since.empty()) {
            double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
            auto since = parse_since(logs_since, now, "--since");
            if (!since) return fail(since.error());
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.6f", *since);
            extra += std::string("&since=") + buf;
        }
        std::string id = (*c)["id"];
        auto out = follow(*client, id, "stdout", stdout, logs_follow, logs_tail, extra);
        auto err = follow(*client, id, "stderr", stderr, logs_follow, logs_tail, extra);
        out.join();
        err.join();
        return 0;
    });
}

static void add_exec_command(CLI::App& app, Globals& g) {
    auto* exec = app.add_subcommand("exec", "run a command in a running container");
    static std::string exec_id, exec_workdir, exec_user;
    static std::vector<std::string> exec_env, exec_cmd;
    exec->add_option("-e,--env", exec_env, "environment variable KEY=VALUE")->allow_extra_args(false);
    exec->add_option("-w,--workdir", exec_workdir, "working directory");
    exec->add_option("-u,--user", exec_user, "uid[:gid]");
    static bool exec_interactive = false, exec_tty = false, exec_detach = false;
    exec->add_flag("-d,--detach", exec_detach, "run it in the background (its output is discarded)");
    exec->add_flag("-i,--interactive", exec_interactive, "pass our stdin on");
    exec->add_flag("-t,--tty", exec_tty, "give the process a terminal");
    static std::string exec_keys = kDefaultDetachKeys;
    exec->add_option("--detach-keys", exec_keys, "with -i: keys that detach and leave it running (default ctrl-p,ctrl-q)");
    exec->add_option("container", exec_id, "container")->required();
    exec->add_option("command", exec_cmd, "command and arguments")->required();
    on_run(exec, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        ExecOptions o;
        o.cmd = exec_cmd;
        o.env = resolve_env(exec_env);
        o.workdir = exec_workdir;
        o.user = exec_user;
        o.interactive = exec_interactive;
        o.tty = exec_tty;
        o.detach = exec_detach;
        o.detach_keys = exec_keys;
        return exec_in(*client, exec_id, o);
    });
}

static void add_wait_command(CLI::App& app, Globals& g) {
    auto* wait = app.add_subcommand("wait", "wait for containers to exit and print their exit codes");
    static std::vector<std::string> wait_ids;
    wait->add_option("container", wait_ids, "containers")->required();
    on_run(wait, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        int rc = 0;
        for (const auto& id : wait_ids) {
            auto r = client->call("POST", "/v1/containers/" + id + "/wait");
            if (!r) rc = fail(r.error());
            else std::printf("%d\n", (*r)["exit_code"].get<int>());
        }
        return rc;
    });
}

void add_run_commands(CLI::App& app, Globals& g) {
    add_run_command(app, g);
    add_attach_command(app, g);
    add_create_command(app, g);
    add_start_command(app, g);
    add_stop_command(app, g);
    add_kill_command(app, g);
    add_logs_command(app, g);
    add_exec_command(app, g);
    add_wait_command(app, g);
}

}  // namespace ctr::cli

namespace ctr::cli {

std::vector<std::string> end_options_after_image(const CLI::App& app, std::vector<std::string> args) {
    // args[0] is the program. Find the subcommand (run, create, exec, or
    // compose's exec, whose "image" is the service), past the flags before it.
    size_t i = 1;
    const CLI::App* scope = &app;
    const CLI::App* cmd = nullptr;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        bool top = scope == &app;
        if ((top && (a == "run" || a == "create")) || a == "exec") {
            cmd = scope->get_subcommand(a);
            ++i;
            break;
        }
        if (top && a == "compose") {
            scope = app.get_subcommand(a);
            continue;
        }
        if (a.size() > 1 && a[0] == '-') {
            std::string name = a.substr(0, a.find('='));
            if (a[1] != '-') name = a.substr(0, 2);
            const CLI::Option* opt = scope->get_option_no_throw(name);
            bool takes_value = opt && opt->get_items_expected_max() > 0;
            bool inline_value = a.find('=') != std::string::npos || (a[1] != '-' && a.size() > 2);
            if (takes_value && !inline_value) ++i;
            continue;
        }
        return args;  // another command
    }
    if (!cmd) return args;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") return args;
        if (a.size() > 1 && a[0] == '-') {
            std::string name = a.substr(0, a.find('='));
            if (a[1] != '-') name = a.substr(0, 2);
            const CLI::Option* opt = cmd->get_option_no_throw(name);
            bool takes_value = opt && opt->get_items_expected_max() > 0;  // flags expect none
            bool inline_value = a.find('=') != std::string::npos || (a[1] != '-' && a.size() > 2);
            if (takes_value && !inline_value) ++i;
            continue;
        }
        // args[i] is IMAGE; the user may have put a "--" after it already.
        if (i + 1 >= args.size() || args[i + 1] != "--") args.insert(args.begin() + static_cast<long>(i) + 1, "--");
        return args;
    }
    return args;
}

}  // namespace ctr::cli
