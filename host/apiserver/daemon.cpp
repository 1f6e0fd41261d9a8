#include "apiserver/daemon.hpp"

namespace ctr::apiserver {

Result<pluginhost::LoadedPlugin*> Daemon::image_plugin() const {
    auto name = CTR_TRY(plugins->choose(CTR_KIND_IMAGE, config.image_plugin, "[image] plugin in config.toml"));
    return plugins->get(name, CTR_KIND_IMAGE);
}

Result<pluginhost::LoadedPlugin*> Daemon::network_plugin() const {
    auto name = CTR_TRY(plugins->choose(CTR_KIND_NETWORK, config.network_plugin, "[network] plugin in config.toml"));
    return plugins->get(name, CTR_KIND_NETWORK);
}

Result<std::string> Daemon::runtime_named(const std::string& name) const {
    if (name.empty()) return plugins->choose(CTR_KIND_RUNTIME, config.container_runtime, "[container] runtime in config.toml");
    // Short names, as Apple's and podman's: "microvm" for a plugin "runtime-microvm".
    const auto* rt = plugins->find(name);
    std::string full = name;
    if (!rt && plugins->find("runtime-" + name)) {
        full = "runtime-" + name;
        rt = plugins->find(full);
    }
    if (rt && rt->kind == "runtime" && rt->state != pluginhost::PluginState::loaded)
        return make_error(CTR_E_UNAVAILABLE, "runtime \"" + full + "\" is unavailable: " + rt->reason);
    if (rt && rt->kind == "runtime") return full;
    std::string available;
    for (const auto& e : plugins->entries())
        if (e.kind == "runtime" && e.state == pluginhost::PluginState::loaded) available += (available.empty() ? "" : ", ") + e.name;
    return make_error(CTR_E_NOT_FOUND, "unknown runtime \"" + name + "\" (available: " + (available.empty() ? "none" : available) + ")");
}

nlohmann::json Daemon::properties() const {
    auto p = config.properties();
    if (auto r = runtime_named(""); r) p["container.runtime"] = *r;
    if (auto n = plugins->choose(CTR_KIND_IMAGE, config.image_plugin, ""); n) p["image.plugin"] = *n;
    if (auto n = plugins->choose(CTR_KIND_NETWORK, config.network_plugin, ""); n) p["network.plugin"] = *n;
    return p;
}

}  // namespace ctr::apiserver
