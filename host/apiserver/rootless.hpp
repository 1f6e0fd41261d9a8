// Rootless: the daemon of an ordinary user. It runs as root of a user
// namespace with the user's ids (sys/userns.hpp) and a mount namespace of
// its own, both kept alive by a holder process (as podman's pause process
// does), so that a daemon started again after a stop or a crash joins the
// namespaces its running containers live in. Bridges, veths and nftables
// rules, which need the host's network to be ours, live in a network
// namespace of the user's (pinned under the run folder), where the network
// plugin's process runs; the daemon itself stays in the host's, to pull and
// to listen for published ports.
#pragma once

#include <ctr/base/paths.hpp>
#include <ctr/sdk/result.hpp>
#include <ctr/sys/userns.hpp>

#include <filesystem>

namespace ctr::apiserver {

// Joins the holder's namespaces when it runs, else makes them and starts
// one. This process must have no thread yet.
Result<sys::UserNamespace> enter_rootless(const Paths& paths);

// The cgroup v2 subtree delegated to the user (the highest cgroup above
// ours whose files are the user's: systemd's user@UID.service with
// Delegate=yes), as a path from the hierarchy's root: the daemon moves
// into a leaf of its own there and gives the controllers to the children.
// "" when there is none (a v1 or hybrid host, or nothing delegated); then
// the runtime is told to use no cgroup (sys::kRootlessCgroupsEnv).
std::string rootless_cgroups(const Paths& paths);

// What the holder runs: nothing, until SIGTERM.
int hold_namespaces();

// The user's network namespace for bridges, made when missing.
Result<std::filesystem::path> rootless_netns(const Paths& paths);

// At a clean stop with no container running: the holder ends and with it
// the namespaces; nothing of the user's stays behind.
void end_rootless(const Paths& paths);

}  // namespace ctr::apiserver
