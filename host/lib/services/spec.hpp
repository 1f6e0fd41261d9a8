// From an image's config and what the user asked for, to an OCI runtime
// spec (config.json, ociVersion 1.0.2: what Debian's crun and runc speak),
// with secure defaults: Docker's capability set with empty inheritable and
// ambient sets, no_new_privileges, masked and read-only /proc and /sys paths.
#pragma once

#include "services/network_options.hpp"
#include "services/security.hpp"
#include "services/log_options.hpp"
#include "services/tuning.hpp"

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace ctr::services {

// One -v/--volume: "NAME:/dst[:ro]" (a named volume, made when missing),
// "/host/path:/dst[:ro]" (a bind mount of a path that must exist), or
// "/dst" (an anonymous volume, removed with the container when --rm).
struct VolumeSpec {
    enum class Kind { named, bind, anonymous } kind = Kind::named;
    std::string source;       // volume name or host path; empty for anonymous
    std::string destination;  // absolute, inside the container
    bool read_only = false;

    static Result<VolumeSpec> parse(const std::string& text);
    std::string str() const;
};

// One --mount, Docker's syntax: comma-separated key=value pairs.
//   type=bind,source=/host,target=/dst[,readonly]
//   type=volume[,source=NAME],target=/dst[,readonly]   (no source: anonymous)
//   type=tmpfs,target=/dst[,tmpfs-size=BYTES][,tmpfs-mode=OCTAL]
// Becomes a VolumeSpec, or a --tmpfs spec in `tmpfs`.
Result<std::variant<VolumeSpec, std::string>> parse_mount(const std::string& text);

// A health check as the API takes it: {"test": ["CMD", arg...] | ["CMD-SHELL",
// "script"] | "script" | ["NONE"], "interval"?, "timeout"?, "start_period"?
// (seconds; defaults 30, 30, 0), "retries"? (default 3)}. Answers the
// normalized form ("test" the argv to run; CMD-SHELL through /bin/sh -c), or
// null for NONE.
Result<nlohmann::json> normalize_healthcheck(const nlohmann::json& j);

// The longest grace period a stop waits before SIGKILL: a day.
inline constexpr int64_t kMaxStopTimeout = 86400;

// A --ulimit: "RLIMIT_NOFILE", soft <= hard.
struct Rlimit {
    std::string type;
    uint64_t soft, hard;
};
// "nofile=1024:2048" -> RLIMIT_NOFILE; values "unlimited" or numbers.
Result<Rlimit> parse_ulimit(const std::string& text);

// Every capability name Linux knows ("CAP_CHOWN", ...).
const std::vector<std::string>& all_capabilities();
// Those of them in the daemon's own bounding set: all it can grant.
std::vector<std::string> bounded_capabilities();

struct RunRequest {
    std::string image;
    std::string name;
    std::vector<std::string> cmd;                    // replaces the image's Cmd when not empty
    std::optional<std::vector<std::string>> entrypoint;  // replaces the image's Entrypoint (and drops its Cmd)
    std::vector<std::string> env;                    // KEY=VALUE, over the image's
    std::string workdir;                             // absolute; default the image's, else /
    std::string user;                                // uid[:gid] or a name from the image's /etc/passwd
    std::string hostname;
    std::string runtime;
    nlohmann::json labels = nlohmann::json::object();
    int64_t memory = 0;                              // bytes; 0: no limit
    double cpus = 0;                                 // 0: no limit
    bool remove = false;                             // --rm
    bool tty = false;                                // -t: a terminal
    bool interactive = false;                        // -i: stdin from an attached client
    bool init = false;                               // --init: a small init (tini) as PID 1, reaping and passing signals
    std::vector<VolumeSpec> volumes;                 // -v
    std::vector<std::string> volumes_from;           // --volumes-from NAME[:ro|:rw]: another container's -v, at create
    bool read_only = false;                          // --read-only: the root filesystem
    std::vector<std::string> tmpfs;                  // --tmpfs /dst[:size=64m,mode=1777]
    std::vector<std::string> cap_add, cap_drop;      // CAP_X, X or ALL
    int64_t pids_limit = 0;                          // 0: none; -1: unlimited
    std::vector<std::string> ulimits;                // nofile=SOFT[:HARD], ...
    int64_t shm_size = 0;                            // bytes of /dev/shm; 0: 64 MiB
    std::string stop_signal;                         // for stop; default the image's, else TERM
    int64_t stop_timeout = -1;                       // seconds; -1: 10
    std::string restart = "no";                      // no | on-failure[:N] | always | unless-stopped
    NetworkOptions network;                          // --network, -p, --dns ...
    // --security-opt, as given (a seccomp=FILE already read into its JSON);
    // what they say, below.
    std::vector<std::string> security_opt;
    nlohmann::json seccomp;                          // null: the default profile; "unconfined"; or a profile
    std::optional<bool> no_new_privileges;           // unset: yes, unless --privileged
    SecurityOptions security;                        // --privileged, --device, --sysctl, --cgroupns
    TuningOptions tuning;                            // --memory-swap, --cpu-shares, --group-add, --pid, ...
    LogOptions logs;                                 // --log-driver, --log-opt
    bool unmask_system_paths = false;                // systempaths=unconfined
    // null: none; else {"test": [argv], "interval", "timeout", "start_period"
    // (seconds), "retries"}, run by the daemon (see normalize_healthcheck).
    nlohmann::json healthcheck;

    static Result<RunRequest> from_json(const nlohmann::json& body);
    nlohmann::json to_json() const;
};

// A mount the spec gets: the source on the host, already resolved.
struct ResolvedMount {
    std::string source, destination;
    bool read_only = false;
};

// The container's network namespace: its own empty one (--network none),
// the host's (--network host), or one made and wired beforehand.
struct SpecNetwork {
    enum class Kind { own, host, path } kind = Kind::own;
    std::string path;
};

// `rootfs` is the container's mounted root filesystem (for /etc/passwd);
// `cgroups_path` the OCI cgroupsPath, as the cgroup manager in use writes it.
Result<nlohmann::json> make_spec(const RunRequest& req, const nlohmann::json& image_config,
                                 const std::filesystem::path& rootfs, const std::string& id,
                                 const std::string& cgroups_path, const std::vector<ResolvedMount>& mounts = {},
                                 const SpecNetwork& network = {});

// What a spec runs, as listings show it: its process's args joined by spaces.
std::string command_line(const nlohmann::json& spec);

// `base` (KEY=VALUE entries) with `overrides` applied in order: KEY=VALUE
// replaces any entry of that KEY, a bare KEY removes it. The daemon never
// looks a bare KEY up in its own environment: the CLI resolves those from
// the caller's before it sends them (cli/env_args.cpp).
std::vector<std::string> merge_env(std::vector<std::string> base, const std::vector<std::string>& overrides);

// The container's hostname: --hostname, else the first 12 characters of its
// id; the host's own name with --uts host.
std::string container_hostname(const RunRequest& req, const std::string& id);

// uid:gid for `user` ("1000", "1000:1000", "name", "name:group"), from
// `rootfs`'s /etc/passwd and /etc/group when names are used; an error names
// a user or group that is not there.
Result<std::pair<int64_t, int64_t>> resolve_user(const std::string& user, const std::filesystem::path& rootfs);

// Reads a file of the container's root filesystem without following any
// symlink out of it (openat2 RESOLVE_IN_ROOT).
Result<std::string> read_in_root(const std::filesystem::path& root, const std::string& path);

}  // namespace ctr::services
