// Docker's finer controls of a container's process and resources, beyond
// --memory, --cpus and --pids-limit: the memory reservation and swap, CPU
// shares and sets, the OOM score, supplementary groups, OCI annotations, and
// the host's or another container's PID, IPC and UTS namespaces. Parsed from
// the run request (each error names the flag and value) and applied to its
// spec.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ctr::services {

struct TuningOptions {
    int64_t memory_reservation = 0;         // bytes, a soft limit; 0: none
    int64_t memory_swap = 0;                // memory plus swap, bytes; 0: not set; -1: unlimited swap
    int64_t cpu_shares = 0;                 // relative weight (1024 the default); 0: not set
    std::string cpuset_cpus, cpuset_mems;   // "0-2,4"
    std::optional<int> oom_score_adj;       // -1000..1000
    std::vector<std::string> group_add;     // names (the image's /etc/group) or numbers
    std::map<std::string, std::string> annotations;
    // "" (its own), "host", or "container:NAME" (joined when it starts).
    std::string pid_mode, ipc_mode, uts_mode;

    static bool is_field(const std::string& key);
    // `memory` and `hostname` are the request's own, which some of these
    // must agree with.
    static Result<TuningOptions> from_json(const nlohmann::json& body, int64_t memory, const std::string& hostname);
    void to_json(nlohmann::json& j) const;
};

// The container NAME of a "container:NAME" mode; "" for any other mode.
std::string joined_container(const std::string& mode);

// Onto a spec make_spec built: resources, OOM score, additional groups
// (names looked up in `rootfs`'s /etc/group), annotations, and the host's
// namespaces for "host" modes. "container:" modes are joined at each start
// (join_namespace), since the other container's process changes.
Status apply_tuning(nlohmann::json& spec, const TuningOptions& t, const std::filesystem::path& rootfs);

// Rootless without a delegated cgroup: a spec that limits resources (any
// of linux.resources but the device rules) is refused, naming the flag,
// rather than run unlimited.
Status check_no_limits(const nlohmann::json& spec);

// Rootless with only the user's own id mapped: mount options that name
// another id (devpts gid=5, a tmpfs's uid=1000) name one the namespace
// lacks, and the mount would fail; they go (uid=0 and gid=0 stay).
void drop_unmapped_mount_ids(nlohmann::json& spec);

// Points the spec's namespace of `type` ("pid", "ipc", "uts") at `path`.
void join_namespace(nlohmann::json& spec, const std::string& type, const std::string& path);

}  // namespace ctr::services
