// `container system ...`: plugin ls/inspect and version. (start, stop,
// status, logs, df, property arrive with the API server.)
#include <ctr/base/strings.hpp>
#include <ctr/base/units.hpp>
#include "build_config.hpp"
#include "config/system_config.hpp"
#include <ctr/sys/files.hpp>
#include "cli/app.hpp"
#include "cli/output.hpp"
#include "cli/prune.hpp"
#include <ctr/pluginhost/commands.hpp>
#include <ctr/pluginhost/host_env.hpp>
#include <ctr/pluginhost/registry.hpp>

#include <ctr/pluginhost/manifest.hpp>

#include <ctr/sys/unique_fd.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace ctr::cli {

namespace {

std::unique_ptr<pluginhost::Registry> scan_plugins(const Globals& g) {
    // With the system config's [plugins.NAME] settings, as the daemon loads them.
    if (auto cfg = config::load(g.paths().etc_dir() / "config.toml"); cfg && !cfg->plugin_settings.empty())
        ::setenv(pluginhost::kSettingsEnv, cfg->plugin_settings.dump().c_str(), 1);
    auto options = pluginhost::default_registry_options(g.paths());
    return pluginhost::Registry::scan(options);
}

// Runs a plugin's command (its manifest's [[commands]]) in place of this
// process, with the plugin's state dir and settings in its environment.
int plugin_command(const Globals& g, const std::string& name, const std::vector<std::string>& args) {
    if (auto cfg = config::load(g.paths().etc_dir() / "config.toml"); cfg && !cfg->plugin_settings.empty())
        ::setenv(pluginhost::kSettingsEnv, cfg->plugin_settings.dump().c_str(), 1);
    auto found = pluginhost::find_plugin_command(g.paths(), name);
    if (!found) return error("no plugin provides the command \"" + name + "\"", 127);
    for (const auto& kv : pluginhost::command_env(*found)) {
        auto eq = kv.find('=');
        ::setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
    }
    std::vector<std::string> argv = {found->command.program.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    std::fflush(nullptr);
    ::execv(cargv[0], cargv.data());
    return error(argv[0] + ": " + std::strerror(errno), 126);
}

int plugin_ls(const Globals& g, const std::string& format, bool quiet) {
    auto reg = scan_plugins(g);
    if (quiet) {
        for (const auto& e : reg->entries()) std::printf("%s\n", e.name.c_str());
        return 0;
    }
    if (format == "json") {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& e : reg->entries()) arr.push_back(e.to_json());
        print_json(arr);
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : reg->entries())
        rows.push_back({e.name, e.kind, e.version, e.abi, e.isolation.empty() ? "-" : e.isolation, pluginhost::state_name(e.state), e.reason});
    std::fputs(render_table({"NAME", "KIND", "VERSION", "ABI", "ISOLATION", "STATE", "REASON"}, rows).c_str(), stdout);
    return 0;
}

int plugin_inspect(const Globals& g, const std::vector<std::string>& names) {
    auto reg = scan_plugins(g);
    nlohmann::json arr = nlohmann::json::array();
    int rc = 0;
    for (const auto& name : names) {
        const pluginhost::PluginEntry* e = reg->find(name);
        if (!e) {
            rc = error("no plugin named \"" + name + "\"");
            continue;
        }
        nlohmann::json j = e->to_json();
        j["description"] = e->description;
        if (e->plugin) {
            j["library"] = e->plugin->manifest().library.string();
            j["plugin_version"] = e->plugin->plugin_version();
            j["settings"] = nlohmann::json::parse(e->plugin->manifest().settings_json, nullptr, false);
        }
        arr.push_back(j);
    }
    if (!arr.empty()) print_json(arr);
    return rc;
}

int system_start(const Globals& g, const std::string& cgroup_manager) {
    Paths paths = g.paths();
    std::vector<std::string> args;
    if (!cgroup_manager.empty()) args = {"--cgroup-manager", cgroup_manager};
    auto started = api::ensure_daemon(paths, g.debug, args);
    if (!started) return fail(started.error());
    if (*started) std::printf("started the API server for root %s\n", paths.root().c_str());
    else std::printf("the API server is already running for root %s\n", paths.root().c_str());
    return 0;
}

int system_stop(const Globals& g, bool all) {
    Paths paths = g.paths();
    api::Client client = existing_daemon(g);
    if (!client.ping()) {
        std::fprintf(stderr, "container: no API server is running for root %s\n", paths.root().c_str());
        return 0;
    }
    // Done when its process is gone, lock and all: a CLI that starts a new
    // one right after must not find the old one still holding the lock.
    auto status = client.call("GET", "/v1/system/status");
    int64_t pid = status ? status->value("pid", int64_t{0}) : 0;
    sys::UniqueFd process(pid > 0 ? static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0)) : -1);
    auto r = client.call("POST", all ? "/v1/system/stop?all=1" : "/v1/system/stop");
    if (!r) return fail(r.error());
    auto socket = api::socket_path(paths);
    for (int i = 0; i < 1000; ++i) {
        std::error_code ec;
        pollfd ended{process.get(), POLLIN, 0};
        bool gone = process.valid() ? ::poll(&ended, 1, 10) == 1 : !std::filesystem::exists(socket, ec);
        if (gone) {
            std::printf("stopped the API server for root %s\n", paths.root().c_str());
            return 0;
        }
        if (!process.valid()) usleep(10000);
    }
    return error("the API server did not stop within 10 s");
}

// Everything of this root goes: containers (and their anonymous volumes),
// networks, volumes, images, `system dns` domains; then the daemon stops,
// and with nothing left to serve, its network plugin takes its bridges and
// rules from the host.
int system_reset(const Globals& g, bool force) {
    if (!force) {
        if (!isatty(STDIN_FILENO))
            return error("system reset removes every container, network, volume and image of root " + g.paths().root().string() +
                         ": give --force to do it without a question");
        std::fprintf(stderr, "This removes every container, network, volume and image of root %s.\nAre you sure? [y/N] ",
                     g.paths().root().c_str());
        char answer[16] = {0};
        if (!std::fgets(answer, sizeof answer, stdin) || (answer[0] != 'y' && answer[0] != 'Y')) return error("reset: nothing was removed", 1);
    }
    api::Client client = existing_daemon(g);
    if (!client.ping()) {
        auto started = daemon_client(g);  // the records say what is on the host: a daemon reads them
        if (!started) return fail(started.error());
        client = *started;
    }
    int rc = 0;
    auto each = [&](const char* list, const char* key, const std::function<std::string(const std::string&)>& route) {
        auto items = client.call("GET", list);
        if (!items) {
            rc = fail(items.error());
            return;
        }
        for (const auto& item : *items) {
            std::string name = item.value(key, "");
            if (auto r = client.call("DELETE", route(name)); !r) rc = fail(r.error());
            else std::printf("removed %s\n", name.c_str());
        }
    };
    each("/v1/containers?all=1", "name", [](const std::string& n) { return "/v1/containers/" + url_escape(n) + "?force=1&volumes=1"; });
    each("/v1/networks", "name", [](const std::string& n) { return "/v1/networks/" + url_escape(n); });
    each("/v1/volumes", "name", [](const std::string& n) { return "/v1/volumes/" + url_escape(n) + "?force=1"; });
    each("/v1/images", "reference", [](const std::string& n) { return "/v1/images?reference=" + url_escape(n) + "&force=1"; });
    each("/v1/system/dns", "domain", [](const std::string& n) { return "/v1/system/dns/" + url_escape(n); });
    int stopped = system_stop(g, true);
    return rc != 0 ? rc : stopped;
}

int system_status(const Globals& g, const std::string& format) {
    Paths paths = g.paths();
    auto r = existing_daemon(g).call("GET", "/v1/system/status");
    if (format == "json") {
        print_json(r ? *r : nlohmann::json{{"running", false}, {"root", paths.root().string()}});
    } else if (r) {
        std::printf("apiserver is running\nroot: %s\nversion: %s\npid: %lld\nlog: %s\n", paths.root().c_str(),
                    (*r)["version"].get<std::string>().c_str(), static_cast<long long>((*r)["pid"].get<int64_t>()),
                    (*r)["log"].get<std::string>().c_str());
        if (auto docker = r->value("docker_socket", ""); !docker.empty()) std::printf("docker api: unix://%s\n", docker.c_str());
        if (auto cg = r->value("cgroup", nlohmann::json::object()); cg.is_object() && cg.contains("version"))
            std::printf("cgroups: %s, managed by %s\n", cg.value("version", "").c_str(), cg.value("manager", "").c_str());
        if (r->value("rootless", false)) {
            std::printf("rootless: yes, ids mapped from %s\n", r->value("id_mapping", "").c_str());
            std::printf("outbound: %s\n", r->value("outbound", "").c_str());
        }
    } else {
        std::printf("apiserver is not running\nroot: %s\n", paths.root().c_str());
    }
    return r ? 0 : 1;
}

// What a Docker client needs to use this root's engine: eval "$(container system docker-env)".
int system_docker_env(const Globals& g) {
    auto r = daemon_client(g);
    if (!r) return fail(r.error());
    auto status = r->call("GET", "/v1/system/status");
    if (!status) return fail(status.error());
    std::string socket = status->value("docker_socket", "");
    if (socket.empty()) return error("the Docker API is off ([docker_api] enabled = false in the system config)");
    std::printf("export DOCKER_HOST=unix://%s\n", socket.c_str());
    return 0;
}

int system_version(const Globals& g, const std::string& format) {
    auto server = existing_daemon(g).call("GET", "/v1/system/version");
    if (format == "json") {
        nlohmann::json j = {{"cli", {{"version", CTR_VERSION}}}};
        j["server"] = server ? *server : nlohmann::json();
        print_json(j);
        return 0;
    }
    std::vector<std::vector<std::string>> rows = {{"cli", CTR_VERSION, "v1"}};
    if (server) rows.push_back({"apiserver", (*server)["version"], (*server)["api_version"]});
    else rows.push_back({"apiserver", "not running", ""});
    std::fputs(render_table({"COMPONENT", "VERSION", "API"}, rows).c_str(), stdout);
    return 0;
}

int system_logs(const Globals& g, bool follow, long tail) {
    Paths paths = g.paths();
    api::Client client = existing_daemon(g);
    std::string target = "/v1/system/logs?tail=" + std::to_string(tail) + (follow ? "&follow=1" : "");
    if (client.ping()) {
        auto st = client.stream(target, [](std::string_view data) {
            std::fwrite(data.data(), 1, data.size(), stdout);
            std::fflush(stdout);
            return true;
        });
        return st ? 0 : fail(st.error());
    }
    // No daemon: its log file still tells what happened.
    auto text = sys::read_file(paths.log_dir() / "apiserver.log");
    if (!text) return error("no API server is running for root " + paths.root().string() + ", and it has no log yet");
    if (follow) std::fprintf(stderr, "container: no API server is running; showing its log without following\n");
    std::fputs(text->c_str(), stdout);
    return 0;
}

int system_df(const Globals& g, const std::string& format) {
    auto client = daemon_client(g);
    if (!client) return fail(client.error());
    auto r = client->call("GET", "/v1/system/df");
    if (!r) return fail(r.error());
    if (format == "json") {
        print_json(*r);
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : *r)
        rows.push_back({row["type"], std::to_string(row["total"].get<int64_t>()), std::to_string(row["active"].get<int64_t>()),
                        human_size(row["size"].get<int64_t>()), human_size(row["reclaimable"].get<int64_t>())});
    std::fputs(render_table({"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"}, rows).c_str(), stdout);
    return 0;
}

int property_ls(const Globals& g, const std::string& format) {
    auto file = g.paths().etc_dir() / "config.toml";
    auto cfg = config::load(file);
    if (!cfg) return fail(cfg.error());
    auto props = cfg->properties();
    if (format == "json") {
        print_json(props);
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& [k, v] : props.items()) rows.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
    std::fputs(render_table({"KEY", "VALUE"}, rows).c_str(), stdout);
    return 0;
}

}  // namespace

void add_system_commands(CLI::App& app, Globals& g) {
    auto* system = app.add_subcommand("system", "manage the container system")->alias("s");
    system->require_subcommand(1);

    auto* start = system->add_subcommand("start", "start the API server");
    static std::string cgroup_manager;
    start->add_option("--cgroup-manager", cgroup_manager, "who makes containers' cgroups: auto, systemd or cgroupfs (default: the config's)")
        ->check(CLI::IsMember({"auto", "systemd", "cgroupfs"}));
    on_run(start, g, [&g] { return system_start(g, cgroup_manager); });

    auto* stop = system->add_subcommand("stop", "stop the API server");
    static bool stop_all = false;
    stop->add_flag("-a,--all", stop_all, "stop every container too");
    on_run(stop, g, [&g] { return system_stop(g, stop_all); });

    auto* reset = system->add_subcommand("reset", "remove every container, network, volume and image of this root, then stop the API server");
    static bool reset_force = false;
    reset->add_flag("-f,--force", reset_force, "do not ask first");
    on_run(reset, g, [&g] { return system_reset(g, reset_force); });

    auto* status = system->add_subcommand("status", "say whether the API server runs (exit 1 when not)");
    static std::string status_format = "table";
    status->add_option("--format", status_format, "table or json")->check(CLI::IsMember({"table", "json"}));
    on_run(status, g, [&g] { return system_status(g, status_format); });

    auto* version = system->add_subcommand("version", "show the versions of the CLI and the API server");
    static std::string version_format = "table";
    version->add_option("--format", version_format, "table or json")->check(CLI::IsMember({"table", "json"}));
    on_run(version, g, [&g] { return system_version(g, version_format); });
    on_run(system->add_subcommand("docker-env", "print the DOCKER_HOST that points Docker clients at this root"), g,
           [&g] { return system_docker_env(g); });
    add_oci_config_command(*system, g);
    add_dns_commands(*system, g);

    auto* logs = system->add_subcommand("logs", "show the API server's log");
    static bool follow = false;
    static long tail = -1;
    logs->add_flag("-f,--follow", follow, "keep showing new lines");
    logs->add_option("-n,--tail", tail, "show only the last N lines");
    on_run(logs, g, [&g] { return system_logs(g, follow, tail); });

    add_system_prune(system, g);

    auto* df = system->add_subcommand("df", "show disk use of images, containers and volumes");
    static std::string df_format = "table";
    df->add_option("--format", df_format, "table or json")->check(CLI::IsMember({"table", "json"}));
    on_run(df, g, [&g] { return system_df(g, df_format); });

    auto* property = system->add_subcommand("property", "show the system configuration");
    property->require_subcommand(1);
    auto* pls = property->add_subcommand("ls", "list every key with its value (defaults merged with config.toml)")->alias("list");
    static std::string prop_format = "table";
    pls->add_option("--format", prop_format, "table or json")->check(CLI::IsMember({"table", "json"}));
    on_run(pls, g, [&g] { return property_ls(g, prop_format); });

    auto* plugin = system->add_subcommand("plugin", "list and inspect plugins");
    plugin->require_subcommand(1);

    auto* ls = plugin->add_subcommand("ls", "list every plugin found, with its state")->alias("list");
    static std::string format = "table";
    static bool quiet = false;
    ls->add_option("--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));
    ls->add_flag("-q,--quiet", quiet, "print names only");
    on_run(ls, g, [&g] { return plugin_ls(g, format, quiet); });

    auto* inspect = plugin->add_subcommand("inspect", "show plugins in detail, as json");
    static std::vector<std::string> names;
    inspect->add_option("name", names, "plugin names")->required();
    on_run(inspect, g, [&g] { return plugin_inspect(g, names); });
}

std::vector<std::string> add_plugin_commands(CLI::App& app, Globals& g, const Paths& paths) {
    std::vector<std::string> names;
    CLI::App* system = app.get_subcommand("system");
    static std::vector<std::string> args;  // one command runs per process
    for (const auto& c : pluginhost::plugin_commands(paths)) {
        bool taken = false;
        for (const auto* sub : system->get_subcommands({}))
            taken = taken || sub->check_name(c.command.name);
        if (taken) continue;  // a built-in command's name: the built-in wins
        std::string summary = c.command.summary.empty() ? "a command of plugin " + c.plugin : c.command.summary;
        auto* cmd = system->add_subcommand(c.command.name, summary + " (plugin " + c.plugin + ")");
        cmd->add_option("args", args, "the command's own arguments (see its --help)");
        // main() puts a "--" after the name, so that the program's flags reach it.
        std::string name = c.command.name;
        on_run(cmd, g, [&g, name] { return plugin_command(g, name, args); });
        names.push_back(name);
    }
    return names;
}

}  // namespace ctr::cli
