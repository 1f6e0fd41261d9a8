// The supervisor of the container service: reconcile at start, the watcher
// that notes exits and carries out --rm and restart policies, and the
// cgroup parent's removal at shutdown, and the finish of a container whose shim died.
#include "apiserver/containers.hpp"
#include "apiserver/container_parts.hpp"
#include "apiserver/cgroup_manager.hpp"
#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/spawn.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <sys/wait.h>
#include <thread>

namespace ctr::apiserver {

namespace fs = std::filesystem;
using nlohmann::json;
using detail::alive;
using detail::exit_file_of;

void Containers::stop_watcher() {
    {
        std::lock_guard<std::mutex> lock(stop_mu_);
        stop_ = true;
    }
    stop_cv_.notify_all();
    if (watcher_.joinable()) watcher_.join();
}

Result<std::vector<std::string>> Containers::reconcile() {
    std::vector<store::ContainerRecord> all;
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        all = CTR_TRY(d_.store->containers());
    }
    std::vector<std::string> done;
    for (auto& c : all) {
        std::error_code ec;
        if (c.state == store::ContainerState::creating) {
            CTR_TRY_STATUS(destroy(c, true));
            done.push_back("rolled back the creation of container " + c.name);
        } else if (fs::exists(removing_mark_of(c.id), ec)) {
            CTR_TRY_STATUS(destroy(c, true));  // every step of it is idempotent
            done.push_back("finished the removal of container " + c.name);
        } else if (c.state != store::ContainerState::running && adopt_started(c)) {
            done.push_back("container " + c.name + " was started: its record says so now");
        } else if (c.state == store::ContainerState::running) {
            CTR_TRY_STATUS(refresh(c));
            if (c.state != store::ContainerState::running) done.push_back("container " + c.name + " exited while no daemon ran");
        }
    }
    // A commit cut short left its container paused.
    for (const auto& c : all) {
        std::error_code ec;
        if (!fs::exists(commit_pause_mark_of(c.id), ec)) continue;
        if (auto st = unpause(c.id); !st) spdlog::warn("container {}: unpause after a commit cut short: {}", c.name, st.error().message);
        else done.push_back("container " + c.name + " was paused for a commit that a crash cut short: it runs on");
        fs::remove(commit_pause_mark_of(c.id), ec);
    }
    // No commit runs yet: the layers that commits cut short were writing go.
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(d_.paths.lib_dir() / "commit", ec)) fs::remove(e.path(), ec);
    // A mark whose record went too (a crash after the removal's last step).
    std::set<std::string> ids;
    for (const auto& c : all) ids.insert(c.id);
    for (const auto& e : fs::directory_iterator(d_.paths.lib_dir() / "containers", ec))
        if (e.path().extension() == ".removing" && !ids.count(e.path().stem().string())) fs::remove(e.path(), ec);
    return done;
}

bool Containers::adopt_started(store::ContainerRecord& c) {
    auto shim = sys::read_file(dir_of(c.id) / "shim.pid");
    if (!shim || !alive(std::atoll(shim->c_str()))) return false;
    // The shim of an earlier run may still be deleting its container: only
    // the runtime can say whether a process runs.
    auto state = runtime_call(c, "state", {{"id", c.id}});
    if (!state || state->value("status", "") != "running" || state->value("pid", int64_t{0}) <= 0) return false;
    c.state = store::ContainerState::running;
    c.pid = state->value("pid", int64_t{0});
    c.started_at = store::now_unix();
    c.finished_at.reset();
    c.exit_code.reset();
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        if (auto st = d_.store->update_container(c, sys::Durability::process_crash); !st) {
            spdlog::warn("container {}: {}", c.name, st.error().message);
            return false;
        }
    }
    note(c, "start");
    return true;
}

void Containers::finish_abandoned(const store::ContainerRecord& c, int exit_code) {
    // A shim that died (killed outright) never had its runtime delete the
    // container: what the runtime made (its state, cgroups, a VM's traces)
    // is still there. A shim in finish mode does that delete now.
    fs::path dir = dir_of(c.id);
    std::vector<std::string> args = shim_argv(c);
    args.insert(args.end(), {"--exit-code", std::to_string(exit_code)});
    sys::SpawnOptions so;
    so.stdout_path = (dir / "shim.log").string();
    so.stderr_path.clear();
    so.new_session = true;
    auto pid = sys::spawn(args, so);
    if (!pid) {
        spdlog::warn("container {}: cannot finish it: {}", c.name, pid.error().message);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mu_);
        shims_.insert(*pid);
    }
    (void)sys::write_file_atomic(dir / "shim.pid", std::to_string(*pid), 0600, sys::Durability::process_crash);
}

Result<store::ContainerRecord> Containers::restart(const std::string& key, int timeout_s) {
    auto c = CTR_TRY(get(key));
    if (c.state == store::ContainerState::running) {
        auto [t, sig] = stop_defaults(c);
        c = CTR_TRY(stop(c.id, timeout_s >= 0 ? timeout_s : t, sig));
        if (c.state == store::ContainerState::running)
            return make_error(CTR_E_INTERNAL, "container " + c.name + " did not stop; not started again");
    }
    auto started = start(c.id);
    if (!started) {
        // A restart policy may have started it meanwhile: then it is restarted.
        auto now = CTR_TRY(get(c.id));
        if (now.state != store::ContainerState::running) return started.error();
        started = now;
    }
    c = *started;
    note(c, "restart");
    return c;
}

void Containers::maybe_restart(const store::ContainerRecord& c) {
    std::string policy = c.settings().restart;
    if (policy == "no" || d_.stopping) return;
    fs::path dir = dir_of(c.id);
    std::error_code ec;
    if (fs::exists(dir / "user_stopped", ec)) return;
    // The watcher's look may be older than a user's start: ask again.
    if (auto now = get(c.id); !now || now->state != store::ContainerState::stopped) return;
    auto count_text = sys::read_file(dir / "restarts");
    int64_t restarts = count_text ? std::atoll(count_text->c_str()) : 0;
    if (policy.rfind("on-failure", 0) == 0) {
        if (c.exit_code.value_or(0) == 0) return;
        auto colon = policy.find(':');
        int64_t max = colon == std::string::npos ? 0 : std::atoll(policy.c_str() + colon + 1);
        if (max > 0 && restarts >= max) return;
    }
    // Back off: at once, then 1, 2, 4, 8, at most 10 seconds after the exit.
    int64_t delay = restarts == 0 ? 0 : std::min<int64_t>(int64_t{1} << std::min<int64_t>(restarts - 1, 4), 10);
    if (store::now_unix() - c.finished_at.value_or(0) < delay) return;
    (void)sys::write_file_atomic(dir / "restarts", std::to_string(restarts + 1), 0600);
    auto st = start(c.id, false, true);
    if (st) spdlog::info("restarted container {} (restart {}, policy {})", c.name, restarts + 1, policy);
    else if (!fs::exists(dir / "user_stopped", ec)) spdlog::warn("restart of container {} failed: {}", c.name, st.error().message);
}

void Containers::release_cgroup_parent() const {
    // A container that just exited may still have its cgroup, which its shim
    // is deleting: wait for that, up to a second. One with a process in it
    // runs on: the parent stays.
    const sys::Cgroups cgroups;
    const std::string parent = cgroup_parent_dir(d_.paths, d_.cgroup_manager, d_.cgroup_base);
    if (d_.cgroup_manager == CgroupManager::systemd) {
        // Each scope goes with its last process; the slice is systemd's to
        // end, once nothing runs in it.
        for (int attempt = 0; attempt < 50; ++attempt) {
            auto populated = sys::cgroup_key(fs::path("/sys/fs/cgroup") / fs::path(parent).relative_path() / "cgroup.events", "populated");
            if (!populated) return;  // never made, or gone
            if (*populated == 0) {
                if (!stop_systemd_slice(d_.paths)) spdlog::warn("systemd did not stop the slice of {}", parent);
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return;  // a container runs on: so does its slice
    }
    for (int attempt = 0; attempt < 50; ++attempt) {
        if (cgroups.remove(parent)) return;
        bool running = false;
        for (const auto& dir : cgroups.dirs(parent)) {
            std::error_code ec;
            for (const auto& child : fs::directory_iterator(dir, ec)) {
                auto procs = sys::read_file(child.path() / "cgroup.procs");
                if (child.is_directory(ec) && procs && !procs->empty()) running = true;
            }
        }
        if (running) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void Containers::start_watcher(std::function<void(const std::vector<store::ContainerRecord>&)> after_each) {
    // Where this root's containers' cgroups go, said once: whoever must find
    // what the daemon made (an operator, the tests' leftover checks) reads
    // it here instead of computing our naming again.
    (void)sys::write_file_atomic(d_.paths.run_dir() / "cgroup-parent", cgroup_parent_dir(d_.paths, d_.cgroup_manager, d_.cgroup_base) + "\n",
                                 0600);
    after_each_ = std::move(after_each);
    watcher_ = std::thread([this] { watch(); });
}

namespace {

// Every write the daemon's one connection has made: when it has not moved,
// no record has changed since the watcher last read them all.
int64_t store_writes(Daemon& d) {
    std::lock_guard<std::mutex> lock(d.store_mu);
    auto st = d.store->db().prepare("SELECT total_changes()");
    if (!st) return -1;
    auto row = st->step();
    return row && *row ? st->integer(0) : -1;
}

// A stopped container a restart policy may yet start again: the watcher
// must look at it every tick, for its back-off runs on the clock.
bool may_restart(const store::ContainerRecord& c) {
    return c.state == store::ContainerState::stopped && c.settings().restart != "no";
}

}  // namespace

// A tick used to read and parse every record and look at every container's
// files, five times a second: with 200 containers that was 7% of a core at
// idle, in the way of every request. Now a tick reads the records only when
// the database changed since it last did (or when a stopped container may be
// due a restart); otherwise it looks for the exit record of each that ran
// then, and every tenth tick (2 s) also for a shim gone without one
// (refresh, which records whatever it finds).
void Containers::watch() {
    std::vector<store::ContainerRecord> seen;
    int64_t seen_writes = -2;
    for (uint64_t tick = 1;; ++tick) {
        {
            std::unique_lock<std::mutex> lock(stop_mu_);
            if (stop_cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; })) return;
        }
        {
            std::lock_guard<std::mutex> lock(mu_);  // reap the shims we started
            for (auto it = shims_.begin(); it != shims_.end();) {
                if (::waitpid(*it, nullptr, WNOHANG) != 0) it = shims_.erase(it);
                else ++it;
            }
        }
        const int64_t writes = store_writes(d_);
        bool read_all = writes < 0 || writes != seen_writes;
        for (const auto& c : seen) {
            if (read_all) break;
            if (may_restart(c)) read_all = true;
            if (c.state != store::ContainerState::running) continue;
            std::error_code ec;
            if (tick % 10 != 0 && !fs::exists(exit_file_of(dir_of(c.id)), ec)) continue;
            auto now = c;
            if (!refresh(now) || now.state != store::ContainerState::running) read_all = true;
        }
        if (read_all) {
            auto all = list();  // refreshes every running container: exits, --rm
            if (!all) {
                spdlog::warn("container watcher: {}", all.error().message);
                continue;
            }
            seen = std::move(*all);
            // What list() recorded itself shows at the next tick, which reads again.
            seen_writes = writes;
            for (const auto& c : seen)
                if (c.state == store::ContainerState::stopped) maybe_restart(c);
        }
        if (after_each_) after_each_(seen);
    }
}

}  // namespace ctr::apiserver
