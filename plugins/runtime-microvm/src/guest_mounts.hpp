// The container's mounts as the guest makes them. The host's OCI spec lists
// bind mounts of host paths and tmpfs mounts; a guest cannot see host paths,
// so each bind-mounted directory (a volume) is shared by a virtiofsd of its
// own and mounted by the agent; a writable file is shared alone, through a
// directory of ours that holds nothing else, and bound onto its place by the
// agent; a read-only file is sent over and mounted read-only by the agent;
// each tmpfs is made by the agent. The spec's /proc, /dev and /sys are the
// agent's; resolv.conf, hosts and hostname are copied into the root
// (runtime.cpp).
//
// A read-only volume is shared through a read-only bind mount made here, so
// that root in the guest cannot remount it writable: the host enforces it.
#pragma once

#include "protocol.h"

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace microvm {

// A host path as a virtiofsd is to share it, through a bind mount of ours;
// unmounted and removed when destroyed.
class HostView {
public:
    // A directory, read-only: root in the guest cannot remount it writable.
    // Its name under the VM's dir starts with "ro" (release_views_left_in).
    static ctr::Result<std::unique_ptr<HostView>> read_only(const std::filesystem::path& source, const std::filesystem::path& at);
    // A file alone in the directory `at`, as `at`/kLoneFile: the guest sees
    // none of its siblings, and writes reach the host's file unless
    // `read_only`, which the host enforces as for a directory. Its name under
    // the VM's dir starts with "file".
    static ctr::Result<std::unique_ptr<HostView>> lone_file(const std::filesystem::path& source, const std::filesystem::path& at,
                                                            bool read_only);
    static constexpr const char* kLoneFile = CTR_LONE_FILE;  // the agent binds it
    ~HostView();
    HostView(const HostView&) = delete;
    HostView& operator=(const HostView&) = delete;
    const std::filesystem::path& path() const { return at_; }  // what to share

private:
    HostView(std::filesystem::path at, std::filesystem::path mounted) : at_(std::move(at)), mounted_(std::move(mounted)) {}
    std::filesystem::path at_, mounted_;  // mounted_: at_, or the file in it
};

struct GuestMounts {
    std::vector<std::filesystem::path> shares;  // to share as vol0, vol1, ...
    std::vector<std::unique_ptr<HostView>> views;
    std::vector<std::string> files;  // FILE frames: "id\0bytes", sent before the MOUNT frame
    std::string payload;  // the agent's MOUNT frame; empty when none
};

// Lets go of the views a killed shim left mounted under `vm_dir`, so that
// removing the directory never deletes through them.
void release_views_left_in(const std::filesystem::path& vm_dir);

// From an OCI config's "mounts"; read-only views go under `vm_dir`.
ctr::Result<GuestMounts> plan_guest_mounts(const nlohmann::json& config, const std::filesystem::path& vm_dir);

}  // namespace microvm
