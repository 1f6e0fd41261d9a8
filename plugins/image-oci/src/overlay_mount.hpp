// How a container's root filesystem is mounted: the kernel's overlay, or
// fuse-overlayfs where the kernel refuses overlay in a user namespace (a
// rootless daemon on a kernel before 5.11, or one that forbids unprivileged
// overlay mounts). The plugin setting `overlay` chooses: "auto" (the
// default: the kernel's, fuse-overlayfs when the kernel refuses), "kernel"
// or "fuse".
//
// In a user namespace the overlay's own marks are user xattrs
// ("user.overlay.*", the kernel's `userxattr` option): trusted ones need
// the host's root. fuse-overlayfs reads both kinds.
#pragma once

#include <ctr/sdk/plugin.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace image_oci {

enum class OverlayDriver { automatic, kernel, fuse };

// The `overlay` setting; absent: automatic.
ctr::Result<OverlayDriver> overlay_driver(const ctr::sdk::json& settings);

struct OverlayLayers {
    std::vector<std::filesystem::path> lowers;  // top first
    std::filesystem::path upper, work;
};

// The xattr that marks a directory opaque (hiding what lies below) for
// overlays this process mounts.
const char* opaque_xattr();

// Mounts `layers` at target (a directory) with `driver`; returns which
// mounted it: "overlay" or "fuse-overlayfs". A fuse-overlayfs mount is
// served by a process of its own, which ends when target is unmounted.
ctr::Result<std::string> mount_overlay(const OverlayLayers& layers, const std::filesystem::path& target, OverlayDriver driver);

}  // namespace image_oci
