// Who makes the containers' cgroups (docs/cgroups.md). With "cgroupfs" the
// OCI runtime makes directories under a parent per root, /container-N
// (below a rootless daemon's delegated subtree). With "systemd", as docker
// and podman do on systemd hosts, the runtime asks systemd over D-Bus for a
// transient scope per container, container-ID.scope, in a slice per root,
// container-N.slice (inside container.slice): systemd then knows every
// container's processes, and nothing of ours sits beside its tree.
#pragma once

#include <ctr/base/paths.hpp>
#include <ctr/sdk/result.hpp>

#include <string>

namespace ctr::apiserver {

enum class CgroupManager { cgroupfs, systemd };

// "cgroupfs" or "systemd": the name the config, `system status`, Docker's
// CgroupDriver and the runtimes' environment use.
const char* to_string(CgroupManager manager);

// What the daemon tells its runtimes in their environment: "systemd" or
// "cgroupfs" (runtime-linux passes --systemd-cgroup to runc or crun).
inline constexpr const char* kCgroupManagerEnv = "CONTAINER_CGROUP_MANAGER";

// The manager from `wanted` (auto, systemd or cgroupfs: the flag, else the
// config). auto is systemd where it is PID 1 on a cgroup v2 host and its
// bus answers. A rootless daemon keeps cgroupfs (its delegated subtree),
// and systemd asked for where it cannot serve is an error.
Result<CgroupManager> choose_cgroup_manager(const std::string& wanted, bool rootless);

// The OCI cgroupsPath of container `id`: "PARENT/ID" for cgroupfs (under
// `base`, a rootless daemon's subtree), "container-N.slice:container:ID"
// for systemd.
std::string cgroups_path(const Paths& paths, CgroupManager manager, const std::string& base, const std::string& id);

// The per-root parent as a directory under the hierarchy's root: the slice's
// for systemd.
std::string cgroup_parent_dir(const Paths& paths, CgroupManager manager, const std::string& base);

// At a clean stop with no container left: systemd is asked to stop the
// root's slice (its directory goes with it); cgroupfs's parent is the
// caller's to remove. Whether the slice is gone.
bool stop_systemd_slice(const Paths& paths);

}  // namespace ctr::apiserver
