// Containers: create (image -> root filesystem -> OCI bundle), start (a
// detached shim per container), stop, kill, wait, logs, remove, and the
// watcher that notices exits (and carries out --rm).
//
// A container's files live in <root>/var/lib/container/containers/<id>/:
// config.json and rootfs/ (the bundle), stdout.log and stderr.log, exit.json
// (written by the reaper, or the shim, when the process ends), shim.log.
#pragma once

#include "api/exit_codes.hpp"
#include "apiserver/attach_warmer.hpp"
#include "apiserver/daemon.hpp"
#include "apiserver/file_watch.hpp"
#include "apiserver/shim_standby.hpp"
#include "apiserver/networks.hpp"
#include "services/spec.hpp"

#include <ctr/sys/unique_fd.hpp>

#include <condition_variable>
#include <functional>
#include <memory>
#include <optional>
#include <map>
#include <set>
#include <thread>

namespace ctr::apiserver {

// A signal by name ("TERM", "SIGTERM") or number (1-64); -1 when it is neither.
int signal_number(std::string name);

// Detail codes on API errors, so that the CLI can exit 127 / 126 as Docker does.
using api::kDetailExecDenied;
using api::kDetailExecNotFound;

class Containers {
public:
    Containers(Daemon& d, Networks& networks) : d_(d), networks_(networks) {}
    ~Containers();

    Result<store::ContainerRecord> create(const nlohmann::json& body);
    // `wait_attach`: the process starts once a client attached (run -i/-t).
    // `by_policy`: a restart policy's start, which a user's stop (its
    // user_stopped mark, made under the same start lock) calls off.
    Result<store::ContainerRecord> start(const std::string& key, bool wait_attach = false, bool by_policy = false);
    // Connects to the shim's attach socket of a running container made with
    // -i or -t; the caller relays the stream (api/attach_protocol.hpp).
    Result<sys::UniqueFd> connect_attach(const std::string& key);
    // exec -i/-t: an exec shim listening for its client; {"exec_id"}. The
    // process runs once the client attached (/v1/exec/ID/attach).
    Result<nlohmann::json> exec_attached(const std::string& key, const nlohmann::json& body);
    Result<sys::UniqueFd> connect_exec(const std::string& exec_id);
    Result<nlohmann::json> exec_wait(const std::string& exec_id);  // {"exit_code"}
    // An exec's exit code once it ended (then forgotten), nothing while it runs.
    Result<std::optional<int>> exec_poll(const std::string& exec_id);
    // exec -d: the process runs on its own, its output discarded; {"exec_id"}.
    // `track`: its exit code is kept for exec_poll (the Docker API's exec inspect).
    Result<nlohmann::json> exec_detached(const std::string& key, const nlohmann::json& body, bool track = false);
    std::filesystem::path attach_socket_of(const std::string& id) const {
        return d_.paths.run_dir() / "attach" / (id.substr(0, 12) + ".sock");
    }
    // Changes of any container (create, start, exit, removal, ...) counted:
    // a waiter takes the count, looks, and sleeps until it moves (or
    // `timeout_ms`), instead of polling on a clock.
    uint64_t change_count() const;
    void wait_for_change(uint64_t seen, int timeout_ms) const;
    // A stop's defaults for `c`: {seconds of grace, signal}: its
    // --stop-timeout else 10; its --stop-signal (or its image's StopSignal) else TERM.
    static std::pair<int, int> stop_defaults(const store::ContainerRecord& c);
    // Stop (as stop does, with its grace period or `timeout_s` when >= 0)
    // when it runs, then start: docker's restart, for both APIs.
    Result<store::ContainerRecord> restart(const std::string& key, int timeout_s);
    Result<store::ContainerRecord> stop(const std::string& key, int timeout_s, int signal);
    Status kill(const std::string& key, int signal);
    // Resource use of a running container, from its cgroups and /proc:
    // {"cpu_ns", "memory": {"usage", "limit"}, "pids": {"current", "limit"},
    //  "net": {"rx_bytes", "tx_bytes"}, "blkio": {"read_bytes", "write_bytes"}}.
    Result<nlohmann::json> stats(const std::string& key);
    Status rename(const std::string& key, const std::string& name);
    // The processes of a running container: [{"pid", "ppid", "command"}].
    Result<nlohmann::json> top(const std::string& key);
    // Runs `body` {"cmd", "env"?, "workdir"?, "user"?} in the running container
    // through an exec shim; its output goes to `write` as frames (see docs/api.md).
    Status exec(const std::string& key, const nlohmann::json& body, const Writer& write);
    Result<nlohmann::json> wait(const std::string& key, const std::atomic<bool>& cancelled);
    // `volumes`: also remove its anonymous volumes (rm -v; run --rm does this).
    Status remove(const std::string& key, bool force, bool volumes = false);
    Result<store::ContainerRecord> get(const std::string& key);  // refreshed
    // Freezes every process of a running container, or thaws them
    // (container_pause.cpp); a "paused" file in its folder says which.
    Status pause(const std::string& key);
    Status unpause(const std::string& key);
    // New limits and restart policy, {"memory", "memory_swap",
    // "memory_reservation", "cpus", "cpu_shares", "cpuset_cpus",
    // "cpuset_mems", "pids_limit", "restart"}: applied at once to a running
    // container and kept for its next start. Returns the record.
    Result<store::ContainerRecord> update(const std::string& key, const nlohmann::json& changes);
    Result<std::vector<store::ContainerRecord>> list();          // refreshed
    // `network connect` / `disconnect` (container_networks.cpp): a created
    // or running container's namespace gains or loses the endpoint now, a
    // stopped one's record changes for its next start. Returns the record.
    Result<store::ContainerRecord> connect_network(const std::string& key, const std::string& network,
                                                   const nlohmann::json& aliases, const std::string& ip);
    Result<store::ContainerRecord> disconnect_network(const std::string& key, const std::string& network);
    // After a crash: a running container's record that still names a network
    // whose endpoint a `network disconnect` had detached forgets it.
    // `attached`: each container's id and the networks it has an endpoint on.
    Result<std::vector<std::string>> reconcile_attachments(const std::map<std::string, std::set<std::string>>& attached);

    std::filesystem::path dir_of(const std::string& id) const { return d_.paths.lib_dir() / "containers" / id; }
    // Written before a commit pauses the container, removed once it is unpaused.
    std::filesystem::path commit_pause_mark_of(const std::string& id) const { return dir_of(id) / "commit-paused"; }
    // Beside the folder, while a removal runs: once the folder is gone, only
    // this says that the record left behind by a crash is to be removed too.
    std::filesystem::path removing_mark_of(const std::string& id) const {
        return d_.paths.lib_dir() / "containers" / (id + ".removing");
    }

    // A container that is not running holds no mounts and no namespaces
    // (container_host_state.cpp): at its exit its root filesystem is
    // unmounted and its network namespace removed (its addresses and
    // published ports go back); a start makes them again from its record.
    Status release_host_state(const store::ContainerRecord& c);
    Status restore_host_state(store::ContainerRecord& c);
    // cp and export of a container that is not running: its root filesystem
    // mounted for as long as the returned hold lives.
    Result<std::shared_ptr<void>> hold_rootfs(const store::ContainerRecord& c);
    // Every container that is not running released (daemon start, `system
    // stop --all`): what a crash, an older version or a create left held.
    void release_all_idle();
    // container-shim's arguments for the container: its own shim (a start,
    // stats), or with detached false an exec's, which keeps no state dir.
    std::vector<std::string> shim_argv(const store::ContainerRecord& c, bool detached = true) const;
    // Sleeps until the container's shim exits or `timeout_ms` passes,
    // whichever is first (a pidfd: no polling of files); `or_exit_file`: or
    // until its exit.json appears (FileWatch).
    void wait_for_shim(const std::string& id, int timeout_ms, bool or_exit_file = false);

    // After a crash: rolls back containers caught "creating", finishes
    // removals that left their ".removing" mark, adopts a start whose shim
    // runs but whose record was not written, and notes exits that happened
    // while no daemon ran. Then starts the watcher.
    Result<std::vector<std::string>> reconcile();
    // `after_each`: called on the watcher's thread with every container, each
    // time it has looked at them (every 200 ms): the health checks' clock.
    void start_watcher(std::function<void(const std::vector<store::ContainerRecord>&)> after_each = nullptr);
    void stop_watcher();  // joins it; the destructor does too
    // At shutdown: removes this root's cgroup parent from every hierarchy
    // where no container is left in it (the runtime removes each container's
    // own cgroup; nobody else would remove the parent).
    void release_cgroup_parent() const;

private:
    // Publishes a container event (d_.events) with Docker's attributes.
    void note(const store::ContainerRecord& c, const std::string& action, nlohmann::json more = nlohmann::json::object()) const;
    // A warning on the record when its runtime declares it confines nothing.
    void warn_if_unconfined(store::ContainerRecord& c) const;
    // Brings a record up to date with its exit file; carries out --rm.
    Status refresh(store::ContainerRecord& c);
    // Its name files after `network connect`/`disconnect` changed its first network.
    void follow(const store::ContainerRecord& c);
    // Runs the runtime's delete for a container whose shim died unfinished.
    void finish_abandoned(const store::ContainerRecord& c, int exit_code);
    // A start that died after its shim started the container but before the
    // record said so: the record becomes "running", as the start meant.
    // False when no shim of it runs a container.
    bool adopt_started(store::ContainerRecord& c);
    Status destroy(const store::ContainerRecord& c, bool volumes);  // rootfs, files, record
    // The runtime's stats of a running container, through a shim in --stats
    // mode (the runtime plugin lives in shims); nothing when it has none.
    std::optional<nlohmann::json> runtime_stats(const store::ContainerRecord& c);
    // ABI 1.2's runtime operations, through a shim in --call mode (the
    // runtime lives in shims): {"ok", "result"} or its error.
    Result<nlohmann::json> runtime_call(const store::ContainerRecord& c, const std::string& op, const nlohmann::json& request = nlohmann::json::object());
    Result<std::pair<pid_t, sys::UniqueFd>> spawn_shim(const store::ContainerRecord& c, const std::vector<std::string>& args);
    // A paused container thawed, so that a signal just sent reaches it.
    void thaw_if_paused(store::ContainerRecord& c);
    // --pid/--ipc container:NAME (container_joins.cpp): at create, the
    // other container must exist; at each start, it must run, and the spec
    // is pointed at its namespaces of the moment.
    Status check_joins(const services::RunRequest& req);
    // --volumes-from NAME[:ro|:rw]: the other container's volumes (by their
    // names, anonymous ones too) and binds, added to req.volumes where the
    // request puts nothing of its own; ro/rw overrides their modes.
    Status add_volumes_from(services::RunRequest& req);
    Status join_namespaces(const store::ContainerRecord& c);
    // The container's root filesystem mounted at its place, if it is not (the image plugin again).
    Status mount_rootfs(const store::ContainerRecord& c);
    // The mounts of -v: named volumes made when missing, anonymous ones made,
    // bind sources checked; each volume linked to the container.
    Result<std::vector<services::ResolvedMount>> resolve_volumes(const store::ContainerRecord& c,
                                                                 const services::RunRequest& req);
    Result<store::ContainerRecord> find(const std::string& key);
    // The exec's process: the container's own, with the body's command and overrides.
    Result<nlohmann::json> exec_process(const store::ContainerRecord& c, const nlohmann::json& body);
    Result<sys::UniqueFd> connect_socket(const std::string& path, const std::string& what);
    // An exec about to start: its process file written, the shim's arguments
    // common to every kind of exec.
    struct ExecPlan {
        std::string container_id, exec_id;
        std::filesystem::path dir, process_file;
        std::vector<std::string> args;
    };
    Result<ExecPlan> plan_exec(const std::string& key, const nlohmann::json& body);
    struct ExecRecord {
        std::string container_id;
        pid_t pid = -1;
        std::filesystem::path exit_file, process_file;
    };
    void watch();
    // Carries out a stopped container's --restart policy (from the watcher).
    void maybe_restart(const store::ContainerRecord& c);

    Daemon& d_;
    Networks& networks_;
    std::mutex mu_;                 // spawned shims; exit codes of containers removed by --rm
    std::mutex exits_mu_;           // one thread records an exit; the others find it recorded
    // One start at a time per container: a restart policy's start on the
    // watcher's thread and a user's `restart` may otherwise both make one.
    std::map<std::string, std::shared_ptr<std::mutex>> start_locks_;  // guarded by mu_
    std::shared_ptr<std::mutex> start_lock(const std::string& id);
    void mark_user_stopped(const std::string& id);  // stop and kill: no restart policy starts it again
    std::set<pid_t> shims_;
    FileWatch exit_files_{"exit.json"};
    AttachWarmer attach_warmer_;  // kicked by create and start
    ShimStandby standby_{d_.paths, standby_runtime(d_)};  // kicked by create; used by start
    std::map<std::string, int64_t> removed_exits_;
    std::map<std::string, ExecRecord> execs_;  // attached execs, by exec id
    std::map<std::string, int> rootfs_holds_;  // by container id, under mu_: cp and export at work
    std::thread watcher_;
    std::function<void(const std::vector<store::ContainerRecord>&)> after_each_;
    mutable std::mutex change_mu_;
    mutable std::condition_variable change_cv_;
    mutable uint64_t changes_ = 0;
    std::mutex stop_mu_;
    std::condition_variable stop_cv_;
    bool stop_ = false;
};

}  // namespace ctr::apiserver
