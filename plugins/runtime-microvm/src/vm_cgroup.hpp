// The cgroup of a VM container: QEMU, virtiofsd and the signal proxy go into
// the container's cgroupsPath, as an OCI runtime would put its process, so
// that `container stats` reads what the VM costs the host, and the host's
// cleanup of its cgroup parent works the same for both runtimes.
// Only the controllers stats reads; on a cgroup2-only host, the one tree.
#pragma once

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace microvm {

class VmCgroup {
public:
    VmCgroup() = default;
    // Makes the cgroup at `path` (e.g. "/container-123/ID", or systemd's
    // "SLICE:PREFIX:NAME") in each hierarchy mounted under `root`: the one
    // tree when `root` is a cgroup2 mount, else the v1 controllers' trees.
    static ctr::Result<VmCgroup> create(const std::string& path, const std::filesystem::path& root = "/sys/fs/cgroup");
    // The cgroup at `path` as it is (for a delete by another process); makes nothing.
    static VmCgroup existing(const std::string& path, const std::filesystem::path& root = "/sys/fs/cgroup");
    ~VmCgroup();
    VmCgroup(VmCgroup&& o) noexcept : dirs_(std::move(o.dirs_)) { o.dirs_.clear(); }
    VmCgroup& operator=(VmCgroup&& o) noexcept;
    VmCgroup(const VmCgroup&) = delete;
    VmCgroup& operator=(const VmCgroup&) = delete;

    ctr::Status add(pid_t pid) const;
    const std::vector<std::filesystem::path>& dirs() const { return dirs_; }
    // Removes the directories; their processes must have ended.
    void remove();

private:
    std::vector<std::filesystem::path> dirs_;
};

}  // namespace microvm
