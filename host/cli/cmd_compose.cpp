// `container compose`: up, down, ps, logs, config, pull, start, stop,
// restart, exec, for the Compose files users already have
// (docs/compose.md).
#include <ctr/base/strings.hpp>
#include "cli/env_args.hpp"
#include "cli/app.hpp"
#include "cli/full_cli.hpp"
#include "cli/compose_ops.hpp"
#include "cli/exec.hpp"
#include "cli/output.hpp"
#include "compose/plan.hpp"
#include "compose/yaml_out.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <unistd.h>

namespace ctr::cli {

using nlohmann::json;

namespace {

// The project's name without reading the files when -p names it (down, ps on a deleted file).
Result<std::string> project_name(const ComposeFlags& f) {
    if (!f.project.empty() && f.files.empty()) return compose::normalize_project_name(f.project);
    return CTR_TRY(load_project(f)).name;
}

// Lines of each container's output, "name  | line", until they end (or
// until the containers stop, with `follow`).
void print_logs(const api::Client& client, const std::vector<json>& containers, bool follow, const std::string& tail) {
    size_t width = 0;
    for (const auto& c : containers) width = std::max(width, c["name"].get<std::string>().size());
    std::mutex out_mu;
    std::vector<std::thread> threads;
    bool color = isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
    int n = 0;
    for (const auto& c : containers) {
        std::string name = c["name"], id = c["id"];
        std::string prefix = name + std::string(width - name.size(), ' ') + " | ";
        if (color) prefix = "\033[" + std::to_string(32 + (n % 6)) + "m" + prefix + "\033[0m";
        ++n;
        for (const char* stream : {"stdout", "stderr"}) {
            threads.emplace_back([&client, &out_mu, prefix, id, stream, follow, tail] {
                std::string pending;
                std::FILE* out = std::string(stream) == "stdout" ? stdout : stderr;
                auto flush_lines = [&](bool all) {
                    size_t nl;
                    while ((nl = pending.find('\n')) != std::string::npos || (all && !pending.empty())) {
                        std::string line = nl == std::string::npos ? pending : pending.substr(0, nl);
                        pending.erase(0, nl == std::string::npos ? pending.size() : nl + 1);
                        std::lock_guard<std::mutex> lock(out_mu);
                        std::fprintf(out, "%s%s\n", prefix.c_str(), line.c_str());
                        std::fflush(out);
                    }
                };
                (void)client.stream("/v1/containers/" + id + "/logs?stream=" + stream + (follow ? "&follow=1" : "") + "&tail=" + url_escape(tail),
                                    [&](std::string_view d) {
                                        pending.append(d);
                                        flush_lines(false);
                                        return true;
                                    });
                flush_lines(true);
            });
        }
    }
    for (auto& t : threads) t.join();
}

// The project's containers of `services` (all when empty), in start order.
Result<std::vector<json>> containers_of(const api::Client& client, const std::string& project, const std::vector<std::string>& services) {
    auto all = CTR_TRY(project_containers(client, project));
    if (services.empty()) return all;
    std::vector<json> out;
    for (const auto& s : services) {
        json c = container_of(all, s);
        if (c.is_null()) return make_error(CTR_E_NOT_FOUND, "service " + s + " has no container in project " + project);
        out.push_back(c);
    }
    return out;
}

}  // namespace

// The flags every compose command shares (-f, -p, ...): one parse per process.
ComposeFlags cf;

static void add_compose_up(CLI::App* compose, Globals& g) {
    auto* up = compose->add_subcommand("up", "create and start the services' containers, networks and volumes");
    static UpOptions uo;
    static bool up_detach = false;
    up->add_flag("-d,--detach", up_detach, "return once everything runs (else follow their output; Ctrl-C stops them)");
    up->add_flag("--build", uo.build, "build the images of services with a build section first");
    up->add_flag("--remove-orphans", uo.remove_orphans, "remove containers of services the files no longer have");
    up->add_option("--progress", uo.progress, "pull progress: auto, plain or none")->check(CLI::IsMember({"auto", "plain", "none"}));
    up->add_option("--wait-timeout", uo.wait_timeout_s, "seconds to wait for a dependency's condition");
    up->add_option("service", uo.services, "services (default: all), with their dependencies");
    on_run_heavy(up, g, [&g] {
        auto project = load_project(cf);
        if (!project) return fail(project.error());
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        // Ctrl-C during a foreground up stops the containers, as Docker's does.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGUSR1);  // ours: wakes the stopper when everything ended by itself
        if (!up_detach) pthread_sigmask(SIG_BLOCK, &set, nullptr);
        if (auto st = compose_up(*client, *project, uo); !st) return fail(st.error());
        if (up_detach) return 0;
        auto order = compose::start_order(*project, uo.services);
        auto cs = containers_of(*client, project->name, order ? *order : std::vector<std::string>{});
        if (!cs) return fail(cs.error());
        std::thread stopper([&] {
            int sig = 0;
            sigwait(&set, &sig);
            if (sig == SIGUSR1) return;
            std::fprintf(stderr, "Stopping...\n");
            (void)stop_in_order(*client, *cs);
        });
        print_logs(*client, *cs, true, "all");
        pthread_kill(stopper.native_handle(), SIGUSR1);
        stopper.join();
        return 0;
    });
}

static void add_compose_down(CLI::App* compose, Globals& g) {
    auto* down = compose->add_subcommand("down", "stop and remove the project's containers and networks");
    static bool down_volumes = false;
    down->add_flag("-v,--volumes", down_volumes, "also remove the project's named volumes and anonymous ones");
    on_run_heavy(down, g, [&g] {
        auto name = project_name(cf);
        if (!name) return fail(name.error());
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto st = compose_down(*client, *name, down_volumes);
        return st ? 0 : fail(st.error());
    });
}

static void add_compose_ps(CLI::App* compose, Globals& g) {
    auto* ps = compose->add_subcommand("ps", "list the project's containers");
    static ListFlags pf;
    static bool ps_all = true;
    add_list_flags(ps, pf);
    ps->add_flag("-a,--all", ps_all, "include stopped containers (the default)");
    on_run_heavy(ps, g, [&g] {
        auto name = project_name(cf);
        if (!name) return fail(name.error());
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto cs = project_containers(*client, *name);
        if (!cs) return fail(cs.error());
        json arr = json::array();
        for (const auto& c : *cs) {
            json row = {{"id", c["id"]}, {"name", c["name"]}, {"service", service_of(c)}, {"image", c["image"]},
                        {"state", c["state"]}, {"ports", ports_text(c)}};
            if (c.contains("health")) row["health"] = c["health"].value("status", "");
            if (c.contains("exit_code")) row["exit_code"] = c["exit_code"];
            arr.push_back(row);
        }
        if (pf.quiet) {
            for (const auto& c : *cs) std::printf("%s\n", c["id"].get<std::string>().substr(0, 12).c_str());
        } else if (pf.format == "json") {
            print_json(arr);
        } else {
            std::vector<std::vector<std::string>> rows;
            for (const auto& c : *cs) rows.push_back({c["name"], service_of(c), c["image"], state_text(c), ports_text(c)});
            std::fputs(render_table({"NAME", "SERVICE", "IMAGE", "STATE", "PORTS"}, rows).c_str(), stdout);
        }
        return 0;
    });
}

static void add_compose_logs(CLI::App* compose, Globals& g) {
    auto* logs = compose->add_subcommand("logs", "show the services' output");
    static bool logs_follow = false;
    static std::string logs_tail = "all";
    static std::vector<std::string> logs_services;
    logs->add_flag("-f,--follow", logs_follow, "keep following");
    logs->add_option("-n,--tail", logs_tail, "only the last N lines of each");
    logs->add_option("service", logs_services, "services (default: all)");
    on_run_heavy(logs, g, [&g] {
        auto name = project_name(cf);
        if (!name) return fail(name.error());
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto cs = containers_of(*client, *name, logs_services);
        if (!cs) return fail(cs.error());
        print_logs(*client, *cs, logs_follow, logs_tail);
        return 0;
    });
}

static void add_compose_config(CLI::App* compose, Globals& g) {
    auto* config = compose->add_subcommand("config", "check the files and print the project as it will run");
    static std::string config_format = "yaml";
    static bool config_services = false;
    config->add_option("--format", config_format, "yaml or json")->check(CLI::IsMember({"yaml", "json"}));
    config->add_flag("--services", config_services, "print the services' names only");
    on_run_heavy(config, g, [] {
        auto project = load_project(cf);
        if (!project) return fail(project.error());
        if (config_services) {
            for (const auto& [name, s] : project->model["services"].items()) std::printf("%s\n", name.c_str());
        } else if (config_format == "json") {
            print_json(project->model);
        } else {
            YAML::Emitter out;
            ctr::compose::emit_yaml(out, project->model);
            std::printf("%s\n", out.c_str());
        }
        return 0;
    });
}

static void add_compose_build(CLI::App* compose, Globals& g) {
    auto* build = compose->add_subcommand("build", "build the images of services with a build section");
    static std::vector<std::string> build_services;
    static bool no_cache = false, pull = false;
    build->add_option("service", build_services, "services (default: all)");
    build->add_flag("--no-cache", no_cache, "run every step, using no cached one");
    build->add_flag("--pull", pull, "pull the base images even when stored");
    on_run_heavy(build, g, [&g] {
        auto project = load_project(cf);
        if (!project) return fail(project.error());
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        for (const auto& svc : build_services)
            if (!project->model["services"].contains(svc)) return fail(make_error(CTR_E_NOT_FOUND, "no such service: " + svc));
        for (const auto& [svc, s] : project->model["services"].items()) {
            if (!s.contains("build")) continue;
            if (!build_services.empty() && std::find(build_services.begin(), build_services.end(), svc) == build_services.end()) continue;
            if (auto st = build_service(*client, *project, svc, no_cache, pull); !st) return fail(st.error());
        }
        return 0;
    });
}

static void add_compose_pull(CLI::App* compose, Globals& g) {
    auto* pull = compose->add_subcommand("pull", "pull the services' images");
    static std::vector<std::string> pull_services;
    static std::string pull_progress = "auto";
    pull->add_option("service", pull_services, "services (default: all)");
    pull->add_option("--progress", pull_progress, "auto, plain or none")->check(CLI::IsMember({"auto", "plain", "none"}));
    on_run_heavy(pull, g, [&g] {
        auto project = load_project(cf);
        if (!project) return fail(project.error());
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto order = compose::start_order(*project, pull_services);
        if (!order) return fail(order.error());
        for (const auto& svc : *order) {
            const json& s = project->model["services"][svc];
            if (s.contains("build")) continue;  // its image is built, not pulled
            auto r = pull_image(*client, s["image"], s.value("platform", ""), 0, pull_progress);
            if (!r) return fail(r.error().wrap("service " + svc));
        }
        return 0;
    });

    // start, stop, restart: the project's existing containers.
    static std::vector<std::string> verb_services[3];  // one list per verb, as long as the command tree lives
    int slot = 0;
    for (const char* verb : {"start", "stop", "restart"}) {
        auto* cmd = compose->add_subcommand(verb, std::string(verb) + " the services' containers");
        auto* services = &verb_services[slot++];
        cmd->add_option("service", *services, "services (default: all)");
        std::string v = verb;
        on_run_heavy(cmd, g, [&g, services, v] {
            auto name = project_name(cf);
            if (!name) return fail(name.error());
            auto client = daemon_client(g);
            if (!client) return fail(client.error());
            auto cs = containers_of(*client, *name, *services);
            if (!cs) return fail(cs.error());
            if (v != "start")
                if (auto st = stop_in_order(*client, *cs); !st) return fail(st.error());
            if (v == "stop") return 0;
            for (const auto& c : *cs) {
                std::string id = c["id"];
                if (v == "restart" || c["state"] != "running")
                    if (auto r = client->call("POST", "/v1/containers/" + id + "/start"); !r) return fail(r.error());
                std::fprintf(stderr, " %-10s %s\n", v == "start" ? "Started" : "Restarted", c["name"].get<std::string>().c_str());
            }
            return 0;
        });
    }
}

static void add_compose_exec(CLI::App* compose, Globals& g) {
    auto* exec = compose->add_subcommand("exec", "run a command in a service's running container");
    static std::string exec_service;
    static std::vector<std::string> exec_cmd;
    static ExecOptions eo;
    static bool no_tty = false;
    exec->add_flag("-T,--no-TTY", no_tty, "no terminal (the default when stdin is not one)");
    exec->add_flag("-d,--detach", eo.detach, "in the background");
    exec->add_option("-e,--env", eo.env, "KEY=VALUE")->allow_extra_args(false);
    exec->add_option("-w,--workdir", eo.workdir, "working directory");
    exec->add_option("-u,--user", eo.user, "user");
    exec->add_option("service", exec_service, "service")->required();
    exec->add_option("command", exec_cmd, "command and arguments")->required();
    on_run_heavy(exec, g, [&g] {
        auto name = project_name(cf);
        if (!name) return fail(name.error());
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto cs = containers_of(*client, *name, {exec_service});
        if (!cs) return fail(cs.error());
        ExecOptions o = eo;
        o.cmd = exec_cmd;
        o.env = resolve_env(eo.env);
        // Like Docker's: a terminal when we have one, unless -T or -d.
        o.tty = !no_tty && !o.detach && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
        o.interactive = o.tty;
        return exec_in(*client, cs->front()["id"], o);
    });
}

void add_compose_commands(CLI::App& app, Globals& g) {
    auto* compose = app.add_subcommand("compose", "run multi-container applications from Compose files");
    compose->require_subcommand(1);
    compose->add_option("-f,--file", cf.files, "compose file (repeatable; later ones merge over earlier ones)")->allow_extra_args(false);
    compose->add_option("-p,--project-name", cf.project, "project name (default: the files' name, or their directory's)");
    compose->add_option("--project-directory", cf.project_dir, "where default files and relative -f are found (default: .)");
    compose->add_option("--env-file", cf.env_files, "variables for ${...} (default: .env beside the first file)")->allow_extra_args(false);

    add_compose_up(compose, g);
    add_compose_down(compose, g);
    add_compose_ps(compose, g);
    add_compose_logs(compose, g);
    add_compose_config(compose, g);
    add_compose_pull(compose, g);
    add_compose_build(compose, g);
    add_compose_exec(compose, g);
}

}  // namespace ctr::cli
