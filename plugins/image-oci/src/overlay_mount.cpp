#include "overlay_mount.hpp"

#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>
#include <ctr/sys/userns.hpp>

#include <sys/mount.h>

#include <cerrno>
#include <cstring>

namespace image_oci {

namespace fs = std::filesystem;

namespace {

// Whether this process is in a user namespace: it cannot change in its
// life, and every mount and every opaque directory unpacked asks.
bool in_user_namespace() {
    static const bool in = ctr::sys::in_user_namespace();
    return in;
}

std::string joined_lowers(const OverlayLayers& l) {
    std::string out;
    for (const auto& d : l.lowers) out += (out.empty() ? "" : ":") + d.string();
    return out;
}

std::string options(const OverlayLayers& l) {
    return "lowerdir=" + joined_lowers(l) + ",upperdir=" + l.upper.string() + ",workdir=" + l.work.string();
}

// The kernel reads at most a page of options.
constexpr size_t kKernelOptionsMax = 4000;

// errno of the kernel's overlay mount; 0 when it mounted.
int mount_kernel(const OverlayLayers& l, const fs::path& target) {
    std::string opts = options(l);
    // A user namespace's overlay keeps its marks in user xattrs (5.11+).
    if (in_user_namespace()) opts += ",userxattr";
    if (opts.size() > kKernelOptionsMax) return E2BIG;
    return ::mount("overlay", target.c_str(), "overlay", 0, opts.c_str()) == 0 ? 0 : errno;
}

ctr::Result<std::string> mount_fuse(const OverlayLayers& l, const fs::path& target) {
    const std::string program = ctr::sys::find_program("fuse-overlayfs");
    if (program.empty()) return ctr::make_error(CTR_E_UNAVAILABLE, "fuse-overlayfs is not installed");
    ctr::sys::RunOptions o;
    o.timeout_ms = 30000;
    o.capture_stderr = true;
    // It serves the mount from a process of its own and returns once the
    // mount is in place.
    auto r = CTR_TRY(ctr::sys::run_capture({program, "-o", options(l), target.string()}, o));
    if (!r.status.success()) {
        std::string why = r.err.substr(0, r.err.find('\n'));
        return ctr::make_error(CTR_E_INTERNAL, "fuse-overlayfs on \"" + target.string() + "\": " + (why.empty() ? "failed" : why));
    }
    return std::string("fuse-overlayfs");
}

std::string kernel_refusal(const OverlayLayers& l, const fs::path& target, int e) {
    if (e == E2BIG)
        return "the image has " + std::to_string(l.lowers.size()) + " layers: too many for one overlay mount (its options pass a page)";
    return "mount overlay on \"" + target.string() + "\": " + std::strerror(e);
}

}  // namespace

ctr::Result<OverlayDriver> overlay_driver(const ctr::sdk::json& settings) {
    if (!settings.is_object() || !settings.contains("overlay")) return OverlayDriver::automatic;
    const auto& v = settings["overlay"];
    if (v == "auto") return OverlayDriver::automatic;
    if (v == "kernel") return OverlayDriver::kernel;
    if (v == "fuse") return OverlayDriver::fuse;
    return ctr::make_error(CTR_E_INVALID_ARGUMENT, "settings.overlay must be \"auto\", \"kernel\" or \"fuse\", not " + v.dump());
}

const char* opaque_xattr() { return in_user_namespace() ? "user.overlay.opaque" : "trusted.overlay.opaque"; }

ctr::Result<std::string> mount_overlay(const OverlayLayers& l, const fs::path& target, OverlayDriver driver) {
    if (driver == OverlayDriver::fuse) return mount_fuse(l, target);
    const int e = mount_kernel(l, target);
    if (e == 0) return std::string("overlay");
    // Refused in a user namespace (an older kernel, or one that forbids
    // unprivileged overlay mounts): fuse-overlayfs does it in user space.
    const bool refused = e == EPERM || e == EINVAL || e == ENODEV || e == EACCES || e == E2BIG;
    if (driver == OverlayDriver::automatic && refused && in_user_namespace()) {
        auto fused = mount_fuse(l, target);
        if (fused) return fused;
        return ctr::make_error(CTR_E_PERMISSION_DENIED, kernel_refusal(l, target, e) + ", and " + fused.error().message);
    }
    return ctr::make_error(e == EPERM ? CTR_E_PERMISSION_DENIED : e == E2BIG ? CTR_E_UNSUPPORTED : CTR_E_INTERNAL, kernel_refusal(l, target, e));
}

}  // namespace image_oci
