// Rootless: an ordinary user's daemon runs as root of a user namespace of
// its own, with the user's subordinate ids (/etc/subuid, /etc/subgid) mapped
// after its own, as podman's rootless mode does. Inside, it may mount
// (overlay, binds), make network namespaces and run the OCI runtime, all on
// what the user owns; outside, every file it makes belongs to the user or
// to one of the user's subordinate ids.
#pragma once

#include <ctr/sdk/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ctr::sys {

// One line of /etc/subuid or /etc/subgid: `count` ids from `start`.
struct IdRange {
    uint32_t start = 0;
    uint32_t count = 0;
};

// The ranges of `file` given to the user named `name` or numbered `id`
// (either form is allowed there); none when the file or the lines are missing.
std::vector<IdRange> subordinate_ranges(const std::filesystem::path& file, const std::string& name, uint32_t id);

// The lines of a uid_map: 0 is `id`, then each range in turn from 1.
std::vector<std::string> id_map_args(uint32_t id, const std::vector<IdRange>& ranges);

// What a user without subordinate ranges is told (empty for one with them):
// every id in a container is then the user's own.
std::string single_id_warning();

struct UserNamespace {
    bool single_id = false;  // no subordinate ranges: only the user's own id is mapped
    uint32_t ids = 1;        // how many ids the namespace maps
    std::string warning;     // single_id_warning(), when single_id
};

// Moves this process (which must not have started threads) into a new user
// and mount namespace, maps the user's ids (newuidmap/newgidmap for the
// ranges; the user's own id alone when there are none) and becomes its
// uid and gid 0. Mounts made from here on are ours alone (slave to the host's).
Result<UserNamespace> enter_user_namespace();

// Joins the user and mount namespaces of `pid` (one that
// enter_user_namespace made for this user) and becomes their uid and gid 0.
// This process must have no thread yet.
Status join_user_namespace(pid_t pid);

// How many uids the user namespace we are in maps: kAllIds in the initial
// one ("0 0 4294967295"), 1 where only the user's own id is.
inline constexpr uint64_t kAllIds = 4294967295ULL;
uint64_t mapped_id_count();

// True when this process's uid 0 is not the host's (we are in a user
// namespace that maps less than every id).
bool in_user_namespace();

// What a rootless daemon tells the runtimes in its shims, in their
// environment: "delegated" (a cgroup subtree is the user's: make cgroups
// under cgroupsPath) or "none" (make none).
inline constexpr const char* kRootlessCgroupsEnv = "CONTAINER_ROOTLESS_CGROUPS";

// Whether this process may make cgroups for its containers: always outside
// a user namespace; inside one only where the daemon said a subtree was
// delegated (kRootlessCgroupsEnv). The rule every runtime plugin follows.
bool may_make_cgroups();

}  // namespace ctr::sys
