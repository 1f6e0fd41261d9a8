// Outbound traffic for a rootless daemon's containers. Their bridges live
// in the user's network namespace (rootless.hpp), which has no way out of
// its own: slirp4netns gives it a tap device and carries what goes through
// it out over ordinary sockets of the user's in the host's namespace (as
// podman's rootless networking does). The bridges' masquerade rules send
// the containers' traffic to that device's default route.
//
// It needs the slirp4netns program and /dev/net/tun open to the user (mode
// 0666 on most distributions). Without either, containers still reach each
// other and are reached through published ports, but nothing beyond the
// host; `system status` says why.
#pragma once

#include <ctr/base/paths.hpp>

#include <filesystem>
#include <string>

namespace ctr::apiserver {

struct Outbound {
    std::string via;      // "slirp4netns", or "" when there is no way out
    std::string missing;  // why not, when via is ""
};

// Starts slirp4netns on the namespace pinned at `netns` unless one of this
// root's runs already (it outlives a daemon, as the namespace does).
Outbound start_outbound(const Paths& paths, const std::filesystem::path& netns);

// Ends this root's slirp4netns (with the namespace, at a clean stop).
void stop_outbound(const Paths& paths);

}  // namespace ctr::apiserver
