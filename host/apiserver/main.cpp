// container-apiserver: the daemon. It owns the state (SQLite), loads the
// image and network plugins, and serves the API on a unix socket under the
// root's run directory. One per root, enforced by a lock file.
//
//   container-apiserver [--root DIR] [--debug]
#include "api/client.hpp"
#include "apiserver/container_routes.hpp"
#include "apiserver/containers.hpp"
#include "apiserver/container_commit.hpp"
#include "apiserver/copy_routes.hpp"
#include "apiserver/build/build_routes.hpp"
#include "apiserver/daemon.hpp"
#include "apiserver/docker/docker_api.hpp"
#include "apiserver/event_stream.hpp"
#include "apiserver/docker/docker_sessions.hpp"
#include "apiserver/dns_hosts.hpp"
#include "apiserver/health.hpp"
#include "apiserver/registry_auth.hpp"
#include "apiserver/cgroup_manager.hpp"
#include "apiserver/rootless.hpp"
#include "apiserver/rootless_outbound.hpp"
#include "apiserver/server.hpp"
#include <ctr/base/fatal_log.hpp>
#include <ctr/base/log.hpp>
#include "build_config.hpp"
#include <ctr/pluginhost/commands.hpp>
#include <ctr/pluginhost/host_env.hpp>
#include <ctr/pluginhost/manifest.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/unique_fd.hpp>
#include <ctr/sys/userns.hpp>

#include <CLI/CLI.hpp>

#include <csignal>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <cstdio>
#include <fcntl.h>
#include <grp.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace ctr;

int fail(const std::string& message) {
    // One line on stderr: the CLI that started us shows it to the user.
    std::fprintf(stderr, "container-apiserver: %s\n", message.c_str());
    spdlog::error("{}", message);
    return 1;
}

// Where to say we are ready: systemd's socket when it started us with
// Type=notify, or the CLI's that started us. Taken out of the environment
// at the start, while we are one thread: the OCI runtimes our shims run
// read NOTIFY_SOCKET as a container's wish to talk to systemd.
std::string take_notify_socket() {
    const char* path = std::getenv("NOTIFY_SOCKET");
    std::string out = path ? path : "";
    ::unsetenv("NOTIFY_SOCKET");
    return out;
}

void sd_notify_ready(const std::string& path) {
    if (path.empty()) return;
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
    const char msg[] = "READY=1";
    ::sendto(fd.get(), msg, sizeof msg - 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
}

// One daemon per root: the lock is held for the life of the process.
Result<sys::UniqueFd> lock_root(const Paths& paths) {
    for (const auto& [dir, mode] : {std::pair{paths.run_dir(), 0700}, {paths.lib_dir(), 0700}, {paths.log_dir(), 0700}})
        CTR_TRY_STATUS(sys::make_dirs(dir, mode));
    auto lock_file = paths.run_dir() / "apiserver.lock";
    sys::UniqueFd lock(::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock.valid()) return sys::errno_error("open", lock_file, errno);
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
        return make_error(CTR_E_ALREADY_EXISTS, "another container-apiserver is running for root " + paths.root().string());
    return lock;
}

// Who besides root may use the sockets: the members of the group the config
// names ([api] group), when the operator made it. Its members can do what
// root can (mount the host's / into a container), as the docker group's can.
// The run folder lets the group through (0710); the sockets are 0660.
// A rootless daemon's sockets are its user's alone.
Result<apiserver::Dialect> open_to_group(const Paths& paths, bool rootless, const std::string& name, apiserver::Dialect dialect) {
    std::vector<char> buf(16384);
    group g{};
    group* found = nullptr;
    if (rootless || name.empty() || ::getgrnam_r(name.c_str(), &g, buf.data(), buf.size(), &found) != 0 || !found) {
        (void)::chmod(paths.run_dir().c_str(), 0700);  // root alone, as it was before any group
        return dialect;
    }
    if (::chown(paths.run_dir().c_str(), static_cast<uid_t>(-1), found->gr_gid) != 0 || ::chmod(paths.run_dir().c_str(), 0710) != 0)
        return sys::errno_error("open to group " + name, paths.run_dir(), errno);
    dialect.mode = 0660;
    dialect.group = static_cast<int>(found->gr_gid);
    return dialect;
}

// The configuration, the log file, the store and the volumes; then the
// plugins. Image and network plugins run each in a plugin host process of
// its own, which the daemon starts and restarts (a crash or hang there fails
// one call); runtime plugins live in the shims, so the daemon only probes them.
Status open_daemon(apiserver::Daemon& d, bool debug) {
    auto cfg = CTR_TRY(config::load(d.paths.etc_dir() / "config.toml"));
    d.config = cfg;
    d.cgroup_manager = CTR_TRY(apiserver::choose_cgroup_manager(d.cgroup_manager_wanted.empty() ? cfg.container_cgroup_manager : d.cgroup_manager_wanted, d.rootless));
    ::setenv(apiserver::kCgroupManagerEnv, apiserver::to_string(d.cgroup_manager), 1);  // for the runtimes in the shims
    ::setenv(apiserver::kOwnBundlesEnv, "1", 1);
    // [plugins.NAME] settings reach every plugin load: ours, the probes', the shims'.
    if (!cfg.plugin_settings.empty()) ::setenv(pluginhost::kSettingsEnv, cfg.plugin_settings.dump().c_str(), 1);
    log::add_file(d.log_file().string());
    log::record_fatal_exits(d.log_file().string());
    if (!debug) spdlog::set_level(spdlog::level::from_str(cfg.log_level));

    d.store = CTR_TRY(store::Store::open(d.paths.lib_dir() / "state.db"));
    // The way back should the file be damaged later (Store::open names it);
    // made again at a clean stop.
    if (auto st = d.store->backup(d.paths.lib_dir() / "state.db.bak"); !st)
        spdlog::warn("no copy of the state database made: {}", st.error().message);
    d.volumes = std::make_unique<services::Volumes>(d.paths, *d.store, d.store_mu);
    d.volumes->on_change = [&d](const std::string& action, const std::string& name) {
        d.events.publish("volume", action, name, {{"driver", "local"}});
    };
    auto reconciled = d.volumes->reconcile();
    if (!reconciled) return make_error(CTR_E_INTERNAL, "reconcile volumes: " + reconciled.error().message);
    for (const auto& line : *reconciled) spdlog::warn("after a crash: {}", line);

    auto options = pluginhost::default_registry_options(d.paths);
    options.load_kinds = {CTR_KIND_IMAGE, CTR_KIND_NETWORK};
    options.plugin_host_exe = pluginhost::helper_path("container-plugin-host");
    options.plugin_host_log = d.log_file();
    options.call_timeout_ms = {{CTR_KIND_IMAGE, cfg.image_call_timeout_ms}, {CTR_KIND_NETWORK, cfg.network_call_timeout_ms}};
    if (d.rootless) {
        const auto netns = CTR_TRY(apiserver::rootless_netns(d.paths));
        options.plugin_netns[CTR_KIND_NETWORK] = netns;
        auto out = apiserver::start_outbound(d.paths, netns);
        d.outbound = out.via.empty() ? "none: " + out.missing : out.via;
        if (out.via.empty()) spdlog::warn("rootless: containers reach no network beyond this host: {}", out.missing);
    }
    d.plugins = pluginhost::Registry::scan(options);
    // A choice the config leaves open and the plugins do not settle is
    // named now; each request that needs the plugin says it again.
    if (auto p = d.image_plugin(); !p) spdlog::warn("{}", p.error().message);
    if (auto p = d.network_plugin(); !p) spdlog::warn("{}", p.error().message);
    if (auto r = d.runtime_named(""); !r) spdlog::warn("{}", r.error().message);
    return ok();
}

// After a crash: containers first, then the network (addresses and
// namespaces of containers that are gone), then what containers that do
// not run still hold (given back, to be made again at their next start).
Status reconcile(apiserver::Daemon& d, apiserver::Containers& containers, apiserver::Networks& networks) {
    auto rolled = containers.reconcile();
    if (!rolled) return make_error(CTR_E_INTERNAL, "reconcile containers: " + rolled.error().message);
    for (const auto& line : *rolled) spdlog::warn("after a crash: {}", line);
    {
        std::map<std::string, std::set<std::string>> named;
        std::lock_guard<std::mutex> store_lock(d.store_mu);
        auto all = d.store->containers();
        if (!all) return make_error(CTR_E_INTERNAL, "reconcile networks: " + all.error().message);
        for (const auto& c : *all) {
            auto& networks_of = named[c.id];
            for (const auto& a : c.settings().network_attachments) networks_of.insert(a.value("network", ""));
        }
        auto released = networks.reconcile(named);
        if (!released) spdlog::warn("reconcile networks: {}", released.error().message);
        else
            for (const auto& line : *released) spdlog::warn("after a crash: {}", line);
    }
    if (auto nets = networks.list(); nets) {
        std::map<std::string, std::set<std::string>> attached;
        for (const auto& n : *nets)
            for (const auto& e : n.value("endpoints", nlohmann::json::array()))
                attached[e.value("container_id", "")].insert(n.value("name", ""));
        auto forgot = containers.reconcile_attachments(attached);
        if (!forgot) spdlog::warn("reconcile network attachments: {}", forgot.error().message);
        else
            for (const auto& line : *forgot) spdlog::warn("after a crash: {}", line);
    }
    containers.release_all_idle();
    if (d.rootless)
        if (auto all = containers.list(); all) networks.republish(*all);
    return ok();
}

// `system stop --all`: every running container at once, each with its own
// stop signal and grace period (the slowest sets the time, not the sum).
std::function<Status()> stop_all(apiserver::Containers& containers, apiserver::Networks& networks) {
    return [&containers, &networks]() -> Status {
        auto all = containers.list();
        if (!all) return all.error();
        std::vector<std::future<Result<store::ContainerRecord>>> stops;
        for (const auto& c : *all)
            if (c.state == store::ContainerState::running)
                stops.push_back(std::async(std::launch::async, [&containers, c] {
                    auto [timeout, signal] = containers.stop_defaults(c);
                    auto stopped = containers.stop(c.id, timeout, signal);
                    // The exit is recorded before its shim has the runtime
                    // delete the container (its state, its cgroup): "nothing
                    // of ours left" holds once the shim has ended too.
                    if (stopped) containers.wait_for_shim(c.id, 10000);
                    return stopped;
                }));
        Status first = ok();
        for (auto& s : stops)
            if (auto stopped = s.get(); !stopped && first) first = stopped.error();
        if (!first) return first;
        containers.release_all_idle();  // created ones too: nothing of ours stays on the host
        networks.remove_default_if_unused();
        return ok();
    };
}

// Plugins' commands that ask to run at daemon start (a manifest's
// start_args, when its setting start_when is true; for example a check for
// a newer guest kernel), each in the background beside the serving daemon,
// its result in the daemon's log.
std::vector<std::thread> run_start_commands(const Paths& paths) {
    std::vector<std::thread> running;
    for (const auto& c : pluginhost::plugin_commands(paths)) {
        if (!pluginhost::start_due(c)) continue;
        running.emplace_back([c] {
            std::vector<std::string> argv = {c.command.program.string()};
            argv.insert(argv.end(), c.command.start_args.begin(), c.command.start_args.end());
            sys::RunOptions o;
            o.timeout_ms = 600000;
            o.capture_stderr = true;
            o.env = pluginhost::command_env(c);
            auto r = sys::run_capture(argv, o);
            std::string what = "plugin " + c.plugin + ": " + c.command.name;
            if (!r) spdlog::warn("{}: {}", what, r.error().message);
            else if (!r->status.success()) spdlog::warn("{}: {}", what, r->err.substr(0, r->err.find('\n')));
            else spdlog::info("{}: {}", what, r->out.substr(0, r->out.find('\n')));
        });
    }
    return running;
}

// Whether a rootless daemon's namespaces may end with it: no container
// lives in them.
bool nothing_running(apiserver::Containers& containers) {
    auto all = containers.list();
    if (!all) return false;
    for (const auto& c : *all)
        if (c.state == store::ContainerState::running) return false;  // paused ones are running too
    return true;
}

int serve(apiserver::Daemon& d, apiserver::Containers& containers, apiserver::Networks& networks, bool background,
          const std::string& notify_socket) {
    const Paths& paths = d.paths;
    apiserver::RegistryAuth auth(paths.lib_dir() / "auth.json");
    d.auth_for = [&auth](const std::string& reference) -> nlohmann::json {
        auto l = auth.for_reference(reference);
        if (!l || !*l) return nullptr;
        return {{"username", (*l)->username}, {"password", (*l)->password}};
    };
    apiserver::DnsHosts dns(d);  // its routes' object outlives the routers
    // The routers outlive the server: a session still draining at the end
    // reads its endpoint's router.
    apiserver::Router router, docker_router;
    auto docker_sessions = std::make_shared<apiserver::docker::Sessions>();
    apiserver::add_system_routes(router, d);
    apiserver::add_object_routes(router, d);
    apiserver::add_image_routes(router, d);
    apiserver::add_container_routes(router, d, containers);
    apiserver::add_copy_routes(router, containers);
    apiserver::add_commit_routes(router, d, containers);
    apiserver::build::Builder builder(d, containers);
    builder.remove_leftovers();  // what a build killed with the daemon left
    apiserver::build::add_build_routes(router, d, builder);
    apiserver::add_network_routes(router, d, networks);
    apiserver::add_registry_routes(router, auth);
    apiserver::add_event_routes(router, d);
    apiserver::add_dns_routes(router, dns);
    apiserver::Server server(d);
    auto ours = open_to_group(paths, d.rootless, d.config.api_group, {});
    if (!ours) return fail(ours.error().message);
    if (auto st = server.listen(api::socket_path(paths), router, *ours); !st) return fail(st.error().message);
    // The Docker Engine API: its own routes, on the same services. The CLI
    // reads Docker's views through our socket even when its own is off.
    {
        apiserver::docker::add_system_routes(docker_router, d);
        apiserver::docker::add_container_routes(docker_router, d, containers, docker_sessions);
        apiserver::docker::add_log_routes(docker_router, d, containers);
        apiserver::docker::add_attach_routes(docker_router, d, containers, docker_sessions);
        apiserver::docker::add_exec_routes(docker_router, containers, docker_sessions);
        apiserver::docker::add_archive_routes(docker_router, containers);
        apiserver::docker::add_commit_routes(docker_router, d, containers);
        apiserver::docker::add_event_routes(docker_router, d);
        apiserver::docker::add_stats_routes(docker_router, d, containers);
        apiserver::docker::add_object_routes(docker_router, d, containers, networks);
        apiserver::docker::add_image_routes(docker_router, d);
        apiserver::docker::add_prune_routes(docker_router, d, containers);
        apiserver::docker::add_image_transfer_routes(docker_router, d);
        apiserver::docker::add_build_route(docker_router, d, builder);
        apiserver::docker::add_view_route(router, docker_router);
    }
    if (d.config.docker_api_enabled) {
        auto docker = open_to_group(paths, d.rootless, d.config.api_group, apiserver::docker::dialect());
        if (!docker) return fail(docker.error().message);
        if (auto st = server.listen(paths.run_dir() / "docker.sock", docker_router, *docker); !st) return fail(st.error().message);
    }
    auto pid_file = paths.run_dir() / "apiserver.pid";
    (void)sys::write_file_atomic(pid_file, std::to_string(::getpid()) + "\n", 0600);
    d.started_at = store::now_unix();
    spdlog::info("container-apiserver {} serving root {} (pid {})", CTR_VERSION, paths.root().string(), ::getpid());
    sd_notify_ready(notify_socket);
    if (background) {  // whoever started us has stopped reading our stderr
        sys::UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
        if (devnull.valid()) ::dup2(devnull.get(), STDERR_FILENO);
    }
    auto start_commands = run_start_commands(paths);
    dns.start();
    auto health = std::make_unique<apiserver::Health>(containers);
    containers.start_watcher([&health](const std::vector<store::ContainerRecord>& all) { health->tick(all); });
    server.run();
    for (auto& t : start_commands) t.join();
    containers.stop_watcher();  // no more ticks
    containers.release_cgroup_parent();
    if (d.rootless && nothing_running(containers)) apiserver::end_rootless(paths);
    health.reset();              // its checks in flight are execs of the containers
    // A clean stop leaves a copy of the state as it ends, for the way back
    // should the file be damaged while the daemon is down.
    if (auto st = d.store->backup(d.paths.lib_dir() / "state.db.bak"); !st)
        spdlog::warn("no copy of the state database made: {}", st.error().message);
    std::error_code ec;
    std::filesystem::remove(pid_file, ec);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"container-apiserver: the container daemon", "container-apiserver"};
    std::string root, cgroup_manager;
    bool debug = false, background = false, hold = false;
    app.add_option("--root", root, "root of all state (default $CONTAINER_ROOT, else /)");
    app.add_flag("--background", background, "started by the CLI: once serving, log to the log file only");
    app.add_flag("--debug", debug, "log debug messages");
    app.add_option("--cgroup-manager", cgroup_manager, "who makes containers' cgroups: auto, systemd or cgroupfs (default: the config's container.cgroup_manager)");
    app.add_flag("--hold-namespaces", hold, "rootless: keep the user's namespaces alive (started by the daemon)")->group("");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (hold) return apiserver::hold_namespaces();
    const std::string notify_socket = take_notify_socket();
    auto daemon = std::make_unique<apiserver::Daemon>(Paths(root));
    auto lock = lock_root(daemon->paths);
    if (!lock) return fail(lock.error().message);
    // An ordinary user's daemon: first into the user's namespaces, while
    // this process is still one thread (unshare and setns need it).
    std::optional<sys::UserNamespace> userns;
    if (::geteuid() != 0) {
        (void)pluginhost::self_exe();  // where our helpers are, read while our mounts are the CLI's
        auto entered = apiserver::enter_rootless(daemon->paths);
        if (!entered) return fail(entered.error().message);
        userns = *entered;
    }
    log::init("container-apiserver", debug);
    // A peer that leaves mid-write (a client, a shim, a helper on a pipe)
    // must cost its one request an EPIPE, not end the daemon silently.
    // Children get the default back (sys::spawn).
    std::signal(SIGPIPE, SIG_IGN);

    daemon->rootless = userns.has_value();
    daemon->cgroup_manager_wanted = cgroup_manager;
    daemon->single_id = userns && userns->single_id;
    if (daemon->rootless) {
        daemon->cgroup_base = apiserver::rootless_cgroups(daemon->paths);
        daemon->limits = !daemon->cgroup_base.empty();
        ::setenv(sys::kRootlessCgroupsEnv, daemon->limits ? "delegated" : "none", 1);  // for the runtimes in the shims
    }
    if (auto st = open_daemon(*daemon, debug); !st) return fail(st.error().message);
    if (daemon->rootless)  // in the log file, which open_daemon opened
        spdlog::info("rootless: {}", daemon->limits ? "containers' cgroups under the delegated " + daemon->cgroup_base
                                                     : std::string("no delegated cgroup v2 subtree: resource limits are refused"));
    if (daemon->single_id) spdlog::warn("{}", userns->warning);
    apiserver::Networks networks(*daemon);
    auto containers = std::make_unique<apiserver::Containers>(*daemon, networks);
    if (auto st = reconcile(*daemon, *containers, networks); !st) return fail(st.error().message);
    daemon->stop_all_containers = stop_all(*containers, networks);
    int rc = serve(*daemon, *containers, networks, background, notify_socket);
    containers.reset();  // before the store goes
    spdlog::info("container-apiserver stopped");
    return rc;
}
