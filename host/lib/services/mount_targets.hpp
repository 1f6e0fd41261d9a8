// Where a mount lands in a container's root once the image's symlinks are
// followed (as the OCI runtime follows them, inside the root), so that an
// image cannot lead a volume onto /proc, /sys or /dev (whose /dev/null the
// runtime then uses to mask paths: the CVE-2025-31133 class).
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace ctr::services {

// `path` (absolute, inside the container) resolved in `root`: each symlink
// component read and followed as if `root` were "/", ".." stopping at the
// root; components that do not exist are kept as written. At most 40 links.
std::string resolve_in_root(const std::filesystem::path& root, const std::string& path);

// Refuses any of `destinations` that resolves to /proc, /sys or /dev.
Status check_destinations(const std::filesystem::path& root, const std::vector<std::string>& destinations);

// Refuses any mount of `mounts` after the first `defaults` (the runtime's
// own /proc, /dev, /sys) whose destination resolves to one of those.
Status check_mount_targets(const std::filesystem::path& root, const nlohmann::json& mounts, size_t defaults);

}  // namespace ctr::services
