#include <ctr/pluginhost/host_env.hpp>

#include <ctr/pluginhost/discovery.hpp>

#include "build_config.hpp"

#include <cstdlib>
#include <sstream>

namespace ctr::pluginhost {

std::filesystem::path self_exe() {
    // Read once: after a rootless daemon moves into a mount namespace of its
    // own, the link may name our program by a path that only made sense in
    // the namespace it came from (a bind mount seen from its own root).
    static const std::filesystem::path exe = [] {
        std::error_code ec;
        auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
        return ec ? std::filesystem::path() : p;
    }();
    return exe;
}

bool running_from_build_tree() {
    std::string exe = self_exe().string();
    std::string root = std::string(CTR_BUILD_ROOT) + "/";
    return exe.compare(0, root.size(), root) == 0;
}

std::filesystem::path helper_path(const std::string& name) {
    if (running_from_build_tree()) return std::filesystem::path(CTR_BUILD_ROOT) / "host" / name;
    std::error_code ec;
    // A program whose own path cannot be seen from here (a mount of another
    // namespace) cannot be placed: the build tree's helper, when there is one.
    if (!std::filesystem::exists(self_exe(), ec) && std::filesystem::exists(std::filesystem::path(CTR_BUILD_ROOT) / "host" / name, ec))
        return std::filesystem::path(CTR_BUILD_ROOT) / "host" / name;
    auto beside = self_exe().parent_path() / name;
    if (std::filesystem::exists(beside, ec)) return beside;
    return std::filesystem::path(CTR_LIBEXEC_DIR) / name;
}

RegistryOptions default_registry_options(const Paths& paths) {
    SearchPathInputs in;
    std::stringstream ss(CTR_BUILD_PLUGIN_DIRS);
    std::string d;
    while (std::getline(ss, d, ':'))
        if (!d.empty()) in.build_dirs.emplace_back(d);
    in.running_from_build_tree = running_from_build_tree();
    in.install_dir = CTR_PLUGIN_INSTALL_DIR;
    in.etc_dir = paths.etc_dir() / "plugins";
    const char* env = std::getenv("CONTAINER_PLUGIN_PATH");
    in.env_path = env ? env : "";

    RegistryOptions opt;
    opt.dirs = search_path(in);
    opt.host_version = CTR_VERSION;
    opt.state_root = paths.lib_dir() / "plugins";
    opt.probe_exe = helper_path("container-plugin-probe");
    opt.probe_cache = paths.run_dir() / "plugin-probe.json";
    if (const char* t = std::getenv("CONTAINER_PLUGIN_PROBE_TIMEOUT_MS"); t && std::atoi(t) > 0)
        opt.probe_timeout_ms = std::atoi(t);
    return opt;
}

}  // namespace ctr::pluginhost
