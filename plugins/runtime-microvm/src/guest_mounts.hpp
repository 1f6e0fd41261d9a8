// The container's mounts as the guest makes them. The host's OCI spec lists
// bind mounts of host paths and tmpfs mounts; a guest cannot see host paths,
// so each bind-mounted directory (a volume) is shared by a virtiofsd of its
// own and mounted by the agent, a read-only file is sent over and mounted
// read-only by the agent, and each tmpfs is made by the agent. The
// spec's /proc, /dev and /sys are the agent's; resolv.conf, hosts and
// hostname are copied into the root (runtime.cpp).
//
// A read-only volume is shared through a read-only bind mount made here, so
// that root in the guest cannot remount it writable: the host enforces it.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace microvm {

// A read-only view of a host directory; unmounted when destroyed.
class ReadOnlyView {
public:
    static ctr::Result<std::unique_ptr<ReadOnlyView>> make(const std::filesystem::path& source, const std::filesystem::path& at);
    ~ReadOnlyView();
    const std::filesystem::path& path() const { return at_; }

private:
    explicit ReadOnlyView(std::filesystem::path at) : at_(std::move(at)) {}
    std::filesystem::path at_;
};

struct GuestMounts {
    std::vector<std::filesystem::path> shares;  // to share as vol0, vol1, ...
    std::vector<std::unique_ptr<ReadOnlyView>> views;
    std::vector<std::string> files;  // FILE frames: "id\0bytes", sent before the MOUNT frame
    std::string payload;  // the agent's MOUNT frame; empty when none
};

// From an OCI config's "mounts"; read-only views go under `vm_dir`.
ctr::Result<GuestMounts> plan_guest_mounts(const nlohmann::json& config, const std::filesystem::path& vm_dir);

}  // namespace microvm
