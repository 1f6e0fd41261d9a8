// container-oci: runc's command line over our runtime plugins, so that
// engines which drive runc (containerd and through it Kubernetes, podman,
// docker) run containers with any runtime plugin unchanged. docs/oci-cli.md.
//
// The plugin: --plugin NAME, else the name this binary runs under
// (container-oci-microvm: runtime-microvm), else the default runtime plugin
// (the only one, or the one whose manifest says default = true).
#include "oci/oci_front.hpp"
#include "oci/oci_log.hpp"
#include "oci/oci_static.hpp"
#include "build_config.hpp"


#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

namespace {

using namespace ctr::oci;

std::string plugin_of_program(const char* argv0) {
    const std::string name = std::filesystem::path(argv0).filename().string();
    const std::string prefix = "container-oci-";
    if (name.rfind(prefix, 0) == 0 && name.size() > prefix.size()) return "runtime-" + name.substr(prefix.size());
    return "";  // the default runtime plugin
}

struct Args {
    Globals g;
    LogTarget log;
    std::string systemd_cgroup, rootless = "auto";
    std::string id, op, signal, format = "table", resources;
    CreateOptions create;
    ExecOptions exec;
    bool detach = false, all = false, force = false, quiet = false, stats = false;
    bool accepted = false;  // flags runc's callers pass that change nothing here
    int interval = 5;
    std::string monitor_request;  // the hidden `monitor` command's create request
    int sync_fd = -1;             // and where it reports
};

// Opens the plugin for `id` (plugin_for: the container's own, the bundle's
// annotation at create, else --plugin or the program's name) and runs `body`.
template <typename F>
int on_front(Args& a, const std::string& id, bool creating, F body) {
    set_log_target(a.log);
    Globals g = a.g;
    g.plugin = plugin_for(a.g, id, creating ? a.create.bundle : "");
    auto front = Front::open(g);
    if (!front) return log_error(front.error().message);
    return body(**front);
}

template <typename F>
void with_front(CLI::App* cmd, Args& a, int& rc, F body, bool creating = false) {
    cmd->callback([&a, &rc, body, creating] { rc = on_front(a, a.id, creating, body); });
}

void add_lifecycle(CLI::App& app, Args& a, int& rc) {
    auto add_create_flags = [&a](CLI::App* c) {
        c->add_option("-b,--bundle", a.create.bundle, "the bundle: config.json and the root filesystem");
        c->add_option("--pid-file", a.create.pid_file, "write the container's pid here");
        c->add_option("--console-socket", a.create.console_socket, "send the terminal's master fd to this unix socket");
        c->add_option("--preserve-fds", a.create.preserve_fds, "pass this many extra fds (from 3)");
        c->add_flag("--no-pivot,--no-new-keyring", a.accepted, "accepted for runc's callers; the plugin decides");
        c->add_option("id", a.id)->required();
    };
    auto* create = app.add_subcommand("create", "create a container; its process waits for start");
    add_create_flags(create);
    with_front(create, a, rc, [&a](Front& f) { return f.create(a.id, a.create); }, true);
    auto* run = app.add_subcommand("run", "create and start; in the foreground, wait and exit with its status");
    add_create_flags(run);
    run->add_flag("-d,--detach", a.detach, "do not wait");
    with_front(run, a, rc, [&a](Front& f) { return f.run(a.id, a.create, a.detach); }, true);
    auto* start = app.add_subcommand("start", "run the process of a created container");
    start->add_option("id", a.id)->required();
    with_front(start, a, rc, [&a](Front& f) { return f.start(a.id); });
    auto* state = app.add_subcommand("state", "the container's OCI state, as JSON");
    state->add_option("id", a.id)->required();
    with_front(state, a, rc, [&a](Front& f) { return f.state(a.id); });
    auto* kill = app.add_subcommand("kill", "signal the container's process (TERM by default)");
    kill->add_flag("-a,--all", a.all, "every process of the container");
    kill->add_option("id", a.id)->required();
    kill->add_option("signal", a.signal);
    with_front(kill, a, rc, [&a](Front& f) { return f.kill(a.id, a.signal, a.all); });
    auto* del = app.add_subcommand("delete", "remove a stopped (or, with --force, any) container");
    del->add_flag("-f,--force", a.force, "kill it first");
    del->add_option("id", a.id)->required();
    with_front(del, a, rc, [&a](Front& f) { return f.remove(a.id, a.force); });
    // Not for engines: what CrashGuard runs after a plugin crashed in a call.
    auto* crashed = app.add_subcommand("after-crash", "")->group("");
    crashed->add_option("id", a.id)->required();
    crashed->add_option("op", a.op)->required();
    crashed->add_option("signal", a.signal)->required();
    with_front(crashed, a, rc, [&a](Front& f) { return f.after_crash(a.id, a.op, a.signal); });
    // Not for engines either: the process create leaves for a plugin that
    // holds its containers (oci/monitor.hpp).
    auto* monitor = app.add_subcommand("monitor", "")->group("");
    monitor->add_option("id", a.id)->required();
    monitor->add_option("request", a.monitor_request)->required();
    monitor->add_option("sync-fd", a.sync_fd)->required();
    with_front(monitor, a, rc, [&a](Front& f) { return f.monitor(a.id, a.monitor_request, a.sync_fd); });
}

void add_others(CLI::App& app, Args& a, int& rc) {
    auto* list = app.add_subcommand("list", "the containers made under this --root");
    list->alias("ls");
    list->add_option("-f,--format", a.format, "table or json")->check(CLI::IsMember({"table", "json"}));
    list->add_flag("-q,--quiet", a.quiet, "ids only");
    with_front(list, a, rc, [&a](Front& f) { return f.list(a.format, a.quiet); });
    auto* ps = app.add_subcommand("ps", "the container's processes");
    ps->add_option("-f,--format", a.format, "table or json")->check(CLI::IsMember({"table", "json"}));
    ps->add_option("id", a.id)->required();
    ps->allow_extras();  // runc passes the rest to ps(1)
    with_front(ps, a, rc, [&a](Front& f) { return f.ps(a.id, a.format); });
    auto* exec = app.add_subcommand("exec", "run another process in a running container");
    exec->add_option("-p,--process", a.exec.process_file, "the process as OCI JSON (- for stdin)");
    exec->add_flag("-d,--detach", a.exec.detach, "do not wait");
    exec->add_option("--pid-file", a.exec.pid_file, "write the process's pid here");
    exec->add_option("--console-socket", a.exec.console_socket, "send the terminal's master fd to this unix socket");
    exec->add_flag("-t,--tty", a.exec.tty, "a terminal");
    exec->add_option("--cwd", a.exec.cwd, "working directory");
    exec->add_option("-e,--env", a.exec.env, "KEY=VALUE");
    exec->add_option("-u,--user", a.exec.user, "UID[:GID]");
    // The id and the command are the rest, untouched: "-c" of `sh -c` is the command's.
    exec->prefix_command();
    exec->callback([&a, &rc, exec] {
        auto rest = exec->remaining();
        if (rest.empty()) {
            set_log_target(a.log);
            rc = log_error("exec: no container id given");
            return;
        }
        a.exec.args.assign(rest.begin() + 1, rest.end());
        rc = on_front(a, rest.front(), false, [&a, &rest](Front& f) { return f.exec(rest.front(), a.exec); });
    });
    for (const char* name : {"pause", "resume"}) {
        auto* c = app.add_subcommand(name, std::string(name) + " every process of the container");
        c->add_option("id", a.id)->required();
        const bool resume = std::string(name) == "resume";
        with_front(c, a, rc, [&a, resume](Front& f) { return f.pause(a.id, resume); });
    }
    auto* update = app.add_subcommand("update", "change a running container's limits");
    update->add_option("-r,--resources", a.resources, "linux.resources as JSON (- for stdin)");
    update->add_option("id", a.id)->required();
    with_front(update, a, rc, [&a](Front& f) { return f.update(a.id, a.resources); });
    auto* events = app.add_subcommand("events", "the container's figures, every --interval seconds");
    events->add_flag("--stats", a.stats, "once, then exit");
    events->add_option("--interval", a.interval, "seconds between figures");
    events->add_option("id", a.id)->required();
    with_front(events, a, rc, [&a](Front& f) { return f.events(a.id, a.stats, a.interval); });
}

void add_static(CLI::App& app, Args& a, int& rc) {
    auto* features = app.add_subcommand("features", "what this runtime supports, as runtime-spec features JSON");
    features->callback([&a, &rc] {
        auto plugin = plugin_named(a.g);
        rc = plugin ? print_features(*plugin) : log_error(plugin.error().message);
    });
    auto* spec = app.add_subcommand("spec", "write a default config.json into the bundle");
    spec->add_option("-b,--bundle", a.create.bundle, "where to write it");
    spec->add_flag("--rootless", a.accepted, "accepted; the default spec is the same");
    spec->callback([&a, &rc] { rc = write_default_spec(a.create.bundle); });
    for (const char* name : {"checkpoint", "restore"}) {
        auto* c = app.add_subcommand(name, "not supported by container-oci");
        c->allow_extras();
        c->callback([&a, &rc, name] {
            set_log_target(a.log);
            rc = log_error(std::string(name) + " is not supported by container-oci (no plugin can " + name + " yet)");
        });
    }
}

}  // namespace

int main(int argc, char** argv) {
    route_library_logs();
    Args a;
    a.g.plugin = plugin_of_program(argv[0]);
    CLI::App app{"container-oci: runc's command line over container's runtime plugins"};
    app.require_subcommand(1);
    app.add_option("--root", a.g.root, "state: records and the plugins' own")->capture_default_str();
    app.add_option("--log", a.log.file, "append errors here");
    app.add_option("--log-format", a.log.format, "text or json")->check(CLI::IsMember({"text", "json"}));
    app.add_flag("--debug", a.log.debug, "debug lines too");
    app.add_option("--systemd-cgroup", a.systemd_cgroup, "the cgroupsPath is systemd's SLICE:PREFIX:NAME: a scope systemd makes")->expected(0, 1);
    app.add_option("--rootless", a.rootless, "accepted: true, false or auto");
    app.add_option("--plugin", a.g.plugin, "the runtime plugin (default: by program name, else the default runtime plugin)");
    app.set_version_flag("-v,--version", [] { return version_text(); });
    int rc = 0;
    add_lifecycle(app, a, rc);
    add_others(app, a, rc);
    add_static(app, a, rc);
    // Read before the commands run (their callbacks run inside parse), among
    // the global flags before the command's name: the runtime plugin learns
    // the cgroup manager from its environment, as under our daemon
    // (runtime-linux passes --systemd-cgroup on to runc or crun;
    // runtime-microvm places its VM in the scope).
    std::set<std::string> commands;
    for (const auto* sub : app.get_subcommands({})) commands.insert(sub->get_name());
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (commands.count(arg)) break;
        if (arg == "--systemd-cgroup" || arg == "--systemd-cgroup=true") ::setenv("CONTAINER_CGROUP_MANAGER", "systemd", 1);
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        // runc exits 1 on a usage error (engines test for non-zero, some for
        // 1) and reports it as any other error: in the log, where an engine
        // reads why its call failed.
        set_log_target(a.log);
        return log_error(e.what());
    }
    return rc;
}
