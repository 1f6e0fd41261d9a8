// `container run|create|start|stop|kill|logs|wait`.
#include <ctr/base/units.hpp>
#include "cli/app.hpp"
#include "cli/attach.hpp"
#include "cli/env_args.hpp"
#include "cli/exec.hpp"
#include "cli/output.hpp"
#include "cli/run_flags.hpp"
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

// Creates the container, pulling its image first when the daemon has none.
Result<nlohmann::json> create_container(api::Client& client, const RunFlags& f) {
    auto body = CTR_TRY(request_of(f));
    std::error_code ec;
    if (!f.cidfile.empty() && std::filesystem::exists(f.cidfile, ec))
        return make_error(CTR_E_ALREADY_EXISTS, "--cidfile: \"" + f.cidfile + "\" already exists");
    // --pull always: a fresh pull first; never: only what is here.
    if (f.pull == "always") {
        auto pulled = pull_image(client, f.image, f.platform, f.max_downloads, f.progress);
        if (!pulled) return pulled.error();
        body["image"] = (*pulled)["reference"];
    }
    auto created = client.call("POST", "/v1/containers", body);
    if (!created && f.pull == "missing" && created.error().status == CTR_E_NOT_FOUND &&
        created.error().message.rfind("no such image", 0) == 0) {
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

static void add_restart_command(CLI::App& app, Globals& g) {
    auto* restart = app.add_subcommand("restart", "stop containers (as stop does) and start them again");
    static std::vector<std::string> ids;
    static int time = -1;
    restart->add_option("container", ids, "containers")->required();
    restart->add_option("-t,--time", time, "seconds to wait before SIGKILL (default: the container's, else 10)")
        ->check(seconds_range(0, services::kMaxStopTimeout));
    on_run(restart, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        int rc = 0;
        for (const auto& id : ids) {
            auto r = client->call("POST", "/v1/containers/" + id + "/restart" + (time >= 0 ? "?t=" + std::to_string(time) : ""));
            if (!r) {
                rc = fail(r.error());
                continue;
            }
            print_warnings(*r);
            std::printf("%s\n", id.c_str());
        }
        return rc;
    });
}

static void add_kill_command(CLI::App& app, Globals& g) {
    auto* kill = app.add_subcommand("kill", "send a signal to containers");
    static std::vector<std::string> kill_ids;
    static std::string kill_signal = "KILL";
    static bool kill_all = false;
    kill->add_option("container", kill_ids, "containers");
    kill->add_option("-s,--signal", kill_signal, "signal (name or number)");
    kill->add_flag("-a,--all", kill_all, "every running container");
    on_run(kill, g, [&g] {
        if (kill_all == !kill_ids.empty()) return error("kill: give container ids or --all, not both or neither");
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        if (kill_all) {
            auto list = client->call("GET", "/v1/containers");
            if (!list) return fail(list.error());
            for (const auto& c : *list) kill_ids.push_back(c["name"]);
        }
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
    static std::vector<std::string> exec_env, exec_env_files, exec_cmd;
    exec->add_option("-e,--env", exec_env, "environment variable KEY=VALUE (or KEY: the caller's value)")->allow_extra_args(false);
    exec->add_option("--env-file", exec_env_files, "file of KEY=VALUE lines")->allow_extra_args(false);
    exec->add_option("-w,--workdir", exec_workdir, "working directory");
    exec->add_option("-u,--user", exec_user, "user: name|uid[:group|gid], from the container's /etc/passwd");
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
        for (const auto& file : exec_env_files) {
            auto text = sys::read_file(file);
            if (!text) return fail(text.error().wrap("--env-file"));
            auto lines = parse_env_file(*text, file);
            if (!lines) return fail(lines.error());
            for (auto& e : *lines) o.env.push_back(std::move(e));
        }
        for (auto& e : resolve_env(exec_env)) o.env.push_back(std::move(e));
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
    add_restart_command(app, g);
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
