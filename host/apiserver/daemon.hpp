// Everything the API server's handlers share: paths, configuration, the
// state store (one connection, serialised by store_mu), the plugins, and the
// way to ask the server to stop.
#pragma once

#include "apiserver/cgroup_manager.hpp"
#include "apiserver/router.hpp"
#include <ctr/base/paths.hpp>
#include "config/system_config.hpp"
#include <ctr/pluginhost/registry.hpp>
#include "services/events.hpp"
#include "services/volumes.hpp"
#include "store/store.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

namespace ctr::apiserver {

// In the environment of every runtime plugin the daemon's shims load: the
// bundles are the daemon's own, and a runtime may add to their spec (runtime-
// linux hands crun a compiled seccomp filter that way). container-oci never
// says so: an engine's bundle is the engine's.
inline constexpr const char* kOwnBundlesEnv = "CONTAINER_OWN_BUNDLES";

struct Daemon {
    Paths paths;
    config::SystemConfig config;
    std::unique_ptr<store::Store> store;
    std::mutex store_mu;
    std::unique_ptr<pluginhost::Registry> plugins;
    std::unique_ptr<services::Volumes> volumes;
    services::Events events;  // what happened, for `container events` and Docker's /events
    int64_t started_at = 0;
    // Started by an ordinary user: root of a user namespace of its own
    // (sys::enter_user_namespace), with no say over the host's cgroups or network.
    bool rootless = false;
    bool single_id = false;  // rootless with only the user's own id mapped
    // Where the containers' cgroups go: "" is the hierarchy's root (root's
    // daemon); a rootless one's is its delegated cgroup v2 subtree, and
    // `limits` is false when it has none (rootless.hpp).
    std::string cgroup_base;
    bool limits = true;
    // The --cgroup-manager flag ("": the config's choice), and what
    // open_daemon chose from it (cgroup_manager.hpp).
    std::string cgroup_manager_wanted;
    CgroupManager cgroup_manager = CgroupManager::cgroupfs;
    // A rootless daemon's way out for its containers (rootless_outbound.hpp):
    // "slirp4netns", or "none: WHY".
    std::string outbound = "host";
    std::atomic<bool> stopping{false};
    std::function<void()> request_stop;
    std::function<Status()> stop_all_containers;  // for `system stop --all`
    // The login for a reference's registry, as {"username","password"}, or null.
    std::function<nlohmann::json(const std::string& reference)> auth_for;

    explicit Daemon(Paths p) : paths(std::move(p)) {}
    std::filesystem::path log_file() const { return paths.log_dir() / "apiserver.log"; }

    // The plugins in use, chosen by kind and the system config ([image]
    // plugin, [network] plugin, [container] runtime; Registry::choose). No
    // plugin's name is written into the host.
    Result<pluginhost::LoadedPlugin*> image_plugin() const;
    Result<pluginhost::LoadedPlugin*> network_plugin() const;
    // `name` as given (or with "runtime-" before it, as in `--runtime
    // microvm`), or the configured default runtime when "": a loaded
    // runtime's name, or an error listing the available ones.
    Result<std::string> runtime_named(const std::string& name) const;
    // The configuration's properties, with the plugin choices it leaves to
    // the plugins ("") filled in with the plugins chosen.
    nlohmann::json properties() const;
};

// The default runtime, or "" when there is none to choose (a standby shim
// is then never started).
inline std::string standby_runtime(const Daemon& d) {
    auto r = d.runtime_named("");
    return r ? *r : std::string();
}

void add_system_routes(Router& router, Daemon& daemon);
void add_object_routes(Router& router, Daemon& daemon);
void add_image_routes(Router& router, Daemon& daemon);

}  // namespace ctr::apiserver
