// container-apiserver: the daemon. It owns the state (SQLite), loads the
// image and network plugins, and serves the API on a unix socket under the
// root's run directory. One per root, enforced by a lock file.
//
//   container-apiserver [--root DIR] [--debug]
#include "api/client.hpp"
#include "apiserver/container_routes.hpp"
#include "apiserver/containers.hpp"
#include "apiserver/copy_routes.hpp"
#include "apiserver/daemon.hpp"
#include "apiserver/health.hpp"
#include "apiserver/registry_auth.hpp"
#include "apiserver/server.hpp"
#include <ctr/base/fatal_log.hpp>
#include <ctr/base/log.hpp>
#include "build_config.hpp"
#include <ctr/pluginhost/host_env.hpp>
#include <ctr/pluginhost/manifest.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <CLI/CLI.hpp>

#include <csignal>
#include <future>
#include <set>
#include <cstdio>
#include <fcntl.h>
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

// Tells systemd we are ready, when it started us with Type=notify.
void sd_notify_ready() {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path) return;
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
    const char msg[] = "READY=1";
    ::sendto(fd.get(), msg, sizeof msg - 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"container-apiserver: the container daemon", "container-apiserver"};
    std::string root;
    bool debug = false, background = false;
    app.add_option("--root", root, "root of all state (default $CONTAINER_ROOT, else /)");
    app.add_flag("--background", background, "started by the CLI: once serving, log to the log file only");
    app.add_flag("--debug", debug, "log debug messages");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    log::init("container-apiserver", debug);
    // A peer that leaves mid-write (a client, a shim, a helper on a pipe)
    // must cost its one request an EPIPE, not end the daemon silently.
    // Children get the default back (sys::spawn).
    std::signal(SIGPIPE, SIG_IGN);

    auto daemon = std::make_unique<apiserver::Daemon>(Paths(root));
    const Paths& paths = daemon->paths;
    for (const auto& [dir, mode] : {std::pair{paths.run_dir(), 0700}, {paths.lib_dir(), 0700}, {paths.log_dir(), 0700}})
        if (auto st = sys::make_dirs(dir, mode); !st) return fail(st.error().message);

    // One daemon per root: the lock is held for the life of the process.
    auto lock_file = paths.run_dir() / "apiserver.lock";
    sys::UniqueFd lock(::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!lock.valid()) return fail(sys::errno_error("open", lock_file, errno).message);
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
        return fail("another container-apiserver is running for root " + paths.root().string());

    auto cfg = config::load(paths.etc_dir() / "config.toml");
    if (!cfg) return fail(cfg.error().message);
    daemon->config = *cfg;
    // [plugins.NAME] settings reach every plugin load: ours, the probes', the shims'.
    if (!cfg->plugin_settings.empty()) ::setenv(pluginhost::kSettingsEnv, cfg->plugin_settings.dump().c_str(), 1);
    log::add_file(daemon->log_file().string());
    log::record_fatal_exits(daemon->log_file().string());
    if (!debug) spdlog::set_level(spdlog::level::from_str(cfg->log_level));

    auto store = store::Store::open(paths.lib_dir() / "state.db");
    if (!store) return fail(store.error().message);
    daemon->store = std::move(*store);
    daemon->volumes = std::make_unique<services::Volumes>(paths, *daemon->store, daemon->store_mu);
    auto reconciled = daemon->volumes->reconcile();
    if (!reconciled) return fail("reconcile volumes: " + reconciled.error().message);
    for (const auto& line : *reconciled) spdlog::warn("after a crash: {}", line);

    // Image and network plugins live in the daemon; runtime plugins live in
    // the shims, so the daemon only probes them.
    auto options = pluginhost::default_registry_options(paths);
    options.load_kinds = {CTR_KIND_IMAGE, CTR_KIND_NETWORK};
    daemon->plugins = pluginhost::Registry::scan(options);

    apiserver::Networks networks(*daemon);
    auto containers = std::make_unique<apiserver::Containers>(*daemon, networks);
    auto rolled = containers->reconcile();
    if (!rolled) return fail("reconcile containers: " + rolled.error().message);
    for (const auto& line : *rolled) spdlog::warn("after a crash: {}", line);
    // Then the network: addresses and namespaces of containers that are gone.
    {
        std::set<std::string> ids;
        std::lock_guard<std::mutex> store_lock(daemon->store_mu);
        auto all = daemon->store->containers();
        if (!all) return fail("reconcile networks: " + all.error().message);
        for (const auto& c : *all) ids.insert(c.id);
        auto released = networks.reconcile(ids);
        if (!released) spdlog::warn("reconcile networks: {}", released.error().message);
        else
            for (const auto& line : *released) spdlog::warn("after a crash: {}", line);
    }
    // What containers that do not run still hold (a crash, an older version):
    // given back, to be made again at their next start.
    containers->release_all_idle();

    daemon->stop_all_containers = [&containers, &networks]() -> Status {
        auto all = containers->list();
        if (!all) return all.error();
        // All at once, each with its own stop signal and grace period: the
        // slowest sets the time, not the sum of them.
        std::vector<std::future<Result<store::ContainerRecord>>> stops;
        for (const auto& c : *all)
            if (c.state == "running")
                stops.push_back(std::async(std::launch::async, [&containers, c] {
                    auto [timeout, signal] = containers->stop_defaults(c);
                    return containers->stop(c.id, timeout, signal);
                }));
        Status first = ok();
        for (auto& s : stops)
            if (auto stopped = s.get(); !stopped && first) first = stopped.error();
        if (!first) return first;
        containers->release_all_idle();  // created ones too: nothing of ours stays on the host
        networks.remove_default_if_unused();
        return ok();
    };

    apiserver::RegistryAuth auth(paths.lib_dir() / "auth.json");
    daemon->auth_for = [&auth](const std::string& reference) -> nlohmann::json {
        auto l = auth.for_reference(reference);
        if (!l || !*l) return nullptr;
        return {{"username", (*l)->username}, {"password", (*l)->password}};
    };

    apiserver::Router router;
    apiserver::add_system_routes(router, *daemon);
    apiserver::add_object_routes(router, *daemon);
    apiserver::add_image_routes(router, *daemon);
    apiserver::add_container_routes(router, *daemon, *containers);
    apiserver::add_copy_routes(router, *containers);
    apiserver::add_network_routes(router, *daemon, networks);
    apiserver::add_registry_routes(router, auth);
    apiserver::Server server(*daemon, router);
    if (auto st = server.listen(api::socket_path(paths)); !st) return fail(st.error().message);
    auto pid_file = paths.run_dir() / "apiserver.pid";
    (void)sys::write_file_atomic(pid_file, std::to_string(::getpid()) + "\n", 0600);
    daemon->started_at = store::now_unix();
    spdlog::info("container-apiserver {} serving root {} (pid {})", CTR_VERSION, paths.root().string(), ::getpid());
    sd_notify_ready();
    if (background) {  // whoever started us has stopped reading our stderr
        sys::UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
        if (devnull.valid()) ::dup2(devnull.get(), STDERR_FILENO);
    }

    // [kernel] auto_update: runtime-microvm's tool looks for a newer guest
    // kernel (and boot-tests it) beside the serving daemon.
    std::thread kernel_update;
    if (cfg->kernel_auto_update) {
        std::vector<std::string> args = {"update"};
        if (!cfg->kernel_update_from.empty()) args.insert(args.end(), {"--from", cfg->kernel_update_from});
        auto tool = pluginhost::kernel_tool_argv(paths, args);
        if (tool.empty()) spdlog::warn("kernel.auto_update: runtime-microvm is not installed");
        else
            kernel_update = std::thread([tool] {
                sys::RunOptions o;
                o.timeout_ms = 600000;
                o.capture_stderr = true;
                auto r = sys::run_capture(tool, o);
                if (!r) spdlog::warn("kernel update: {}", r.error().message);
                else if (!r->status.success()) spdlog::warn("kernel update: {}", r->err.substr(0, r->err.find('\n')));
                else spdlog::info("kernel update: {}", r->out.substr(0, r->out.find('\n')));
            });
    }

    auto health = std::make_unique<apiserver::Health>(*containers);
    containers->start_watcher([&health](const std::vector<store::ContainerRecord>& all) { health->tick(all); });
    server.run();
    if (kernel_update.joinable()) kernel_update.join();
    containers->stop_watcher();  // no more ticks
    containers->release_cgroup_parent();
    health.reset();              // its checks in flight are execs of the containers
    containers.reset();          // before the store goes
    std::error_code ec;
    std::filesystem::remove(pid_file, ec);
    spdlog::info("container-apiserver stopped");
    return 0;
}
