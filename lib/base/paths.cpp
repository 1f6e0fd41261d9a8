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
}

}  // namespace ctr
