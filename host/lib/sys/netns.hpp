// Named network namespaces: a new namespace kept alive by a bind mount on a
// file (as `ip netns add` does), so that the network plugin can wire it
// before the container starts and the container keeps it across restarts.
#pragma once

#include <ctr/sdk/result.hpp>

#include <filesystem>

namespace ctr::sys {

// Makes a fresh network namespace and pins it at `path` (its parent must
// exist). Made on a short-lived thread: no thread of ours changes namespace.
Status make_netns(const std::filesystem::path& path);

// Unpins and deletes `path`; a path that is gone is not an error.
Status remove_netns(const std::filesystem::path& path);

}  // namespace ctr::sys
