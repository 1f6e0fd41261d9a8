// Where everything lives. Every path derives from one root (`--root` or
// CONTAINER_ROOT, default "/"), so that tests run on throwaway roots in
// parallel and never touch the machine's real state.
#pragma once

#include <filesystem>
#include <string>

namespace ctr {

class Paths {
public:
    // root "" means: $CONTAINER_ROOT if set, else "/" for root and
    // $XDG_DATA_HOME/container (~/.local/share/container) for anyone else.
    // That user root's volatile state (sockets, pids, namespaces) goes to
    // $XDG_RUNTIME_DIR/container when the session has one (a tmpfs of the
    // user's, emptied at logout, as podman's and rootless docker's are).
    explicit Paths(std::string root = "");

    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path etc_dir() const { return root_ / "etc/container"; }      // system config, plugins
    std::filesystem::path lib_dir() const { return root_ / "var/lib/container"; }  // state db, content
    const std::filesystem::path& run_dir() const { return run_; }                 // sockets, volatile state
    std::filesystem::path log_dir() const { return root_ / "var/log/container"; }  // the daemon's log
    std::filesystem::path plugin_state_dir(const std::string& plugin) const {
        return lib_dir() / "plugins" / plugin;
    }

private:
    std::filesystem::path root_, run_;
};

}  // namespace ctr
