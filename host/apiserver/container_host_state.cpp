// What a container holds on the host while it runs, and gives back when it
// does not: the overlay mount of its root filesystem, its network namespace
// with its links, addresses and published ports. A stopped container holds
// none of them, so a root whose containers are all stopped can be removed
// without leaking host state, and `system stop --all` leaves nothing behind
// but what a later start makes again from the records.
#include "apiserver/containers.hpp"
#include "apiserver/container_parts.hpp"

#include <ctr/pluginhost/call.hpp>

#include <spdlog/spdlog.h>

#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace ctr::apiserver {

namespace fs = std::filesystem;

namespace {

bool is_mount_point(const fs::path& path) {
    struct stat here {}, parent {};
    return ::stat(path.c_str(), &here) == 0 && ::stat(path.parent_path().c_str(), &parent) == 0 && here.st_dev != parent.st_dev;
}

// Until nothing is mounted there: no stat() decides (a failed one would
// leave the mount), and a mount stacked on the first goes too.
Status unmount_rootfs(const fs::path& rootfs) {
    for (int layer = 0; layer < 8; ++layer) {
        if (::umount2(rootfs.c_str(), MNT_DETACH) == 0) continue;
        if (errno == EINVAL || errno == ENOENT) return ok();  // not (or no longer) a mount point
        return make_error(CTR_E_INTERNAL, "unmount " + rootfs.string() + ": " + std::strerror(errno));
    }
    return make_error(CTR_E_INTERNAL, "unmount " + rootfs.string() + ": still mounted after 8 unmounts");
}

}  // namespace

Status Containers::release_host_state(const store::ContainerRecord& c) {
    Status result = ok();
    {
        std::lock_guard<std::mutex> lock(mu_);  // a copy at work keeps the mount; its hold's end takes it
        if (!rootfs_holds_.count(c.id)) result = unmount_rootfs(dir_of(c.id) / "rootfs");
    }
    if (auto st = networks_.unwire(c); !st && result) result = st;
    if (!result) spdlog::warn("container {}: give back what it held: {}", c.name, result.error().message);
    return result;
}

Status Containers::mount_rootfs(const store::ContainerRecord& c) {
    fs::path rootfs = dir_of(c.id) / "rootfs";
    if (is_mount_point(rootfs)) return ok();
    auto* images = CTR_TRY(d_.image_plugin());
    auto mounted = pluginhost::invoke(images->image()->prepare_rootfs, images->instance(),
                                   {{"reference", c.image}, {"container_id", c.id}, {"target", rootfs.string()}}, "prepare_rootfs");
    if (!mounted) return mounted.error().wrap("mount the root filesystem of " + c.name);
    return ok();
}

Status Containers::restore_host_state(store::ContainerRecord& c) {
    CTR_TRY_STATUS(mount_rootfs(c));
    return networks_.rewire_if_lost(c, dir_of(c.id));
}

Result<std::shared_ptr<void>> Containers::hold_rootfs(const store::ContainerRecord& c) {
    if (c.state == store::ContainerState::running) return std::shared_ptr<void>();
    {
        std::lock_guard<std::mutex> lock(mu_);
        ++rootfs_holds_[c.id];
    }
    auto release = [this, id = c.id](void*) {
        bool running = false;
        {
            std::lock_guard<std::mutex> store_lock(d_.store_mu);
            auto now = d_.store->container(id);
            running = now && *now && (*now)->state == store::ContainerState::running;  // started meanwhile: the mount is its own now
        }
        std::lock_guard<std::mutex> lock(mu_);
        if (--rootfs_holds_[id] > 0) return;
        rootfs_holds_.erase(id);
        if (!running) (void)unmount_rootfs(dir_of(id) / "rootfs");
    };
    if (auto st = mount_rootfs(c); !st) {
        release(nullptr);
        return st.error();
    }
    return std::shared_ptr<void>(static_cast<void*>(this), release);
}

void Containers::release_all_idle() {
    std::vector<store::ContainerRecord> all;
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        auto listed = d_.store->containers();
        if (!listed) return;
        all = *listed;
    }
    // Only what still holds something: a detach would wake the network
    // plugin (its bridges and rules) for containers that hold nothing, on
    // every daemon start.
    for (const auto& c : all)
        if ((c.state == store::ContainerState::stopped || c.state == store::ContainerState::created) &&
            (is_mount_point(dir_of(c.id) / "rootfs") || fs::exists(networks_.netns_of(c.id))))
            (void)release_host_state(c);
}

}  // namespace ctr::apiserver
