#include <ctr/base/paths.hpp>

#include <cstdlib>
#include <unistd.h>

namespace ctr {

namespace {

// An ordinary user's root (rootless): $XDG_DATA_HOME/container, as podman
// keeps ~/.local/share/containers. The layout under it is root's.
std::string user_root() {
    const char* data = std::getenv("XDG_DATA_HOME");
    if (data && *data == '/') return std::string(data) + "/container";
    const char* home = std::getenv("HOME");
    return std::string(home && *home ? home : "/tmp") + "/.local/share/container";
}

}  // namespace

Paths::Paths(std::string root) {
    if (root.empty()) {
        const char* env = std::getenv("CONTAINER_ROOT");
        root = (env && *env) ? env : ::geteuid() == 0 ? "/" : user_root();
    }
    root_ = std::filesystem::absolute(root).lexically_normal();
    run_ = root_ / "run/container";
    // The same rule in the CLI and in its rootless daemon (uid 0 of a user
    // namespace, given --root by the CLI, with the user's environment).
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    std::error_code ec;
    if (runtime && *runtime == '/' && std::filesystem::is_directory(runtime, ec) &&
        root_ == std::filesystem::path(user_root()).lexically_normal())
        run_ = std::filesystem::path(runtime) / "container";
}

}  // namespace ctr
