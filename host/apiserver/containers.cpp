#include "apiserver/containers.hpp"
#include "apiserver/cgroup_manager.hpp"
#include "apiserver/container_parts.hpp"
#include "services/names.hpp"
#include "services/mount_targets.hpp"
#include "services/tuning.hpp"
#include "apiserver/health.hpp"
#include "api/mux_frame.hpp"

#include <ctr/base/failpoint.hpp>
#include <ctr/pluginhost/call.hpp>
#include <ctr/pluginhost/host_env.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/netns.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <regex>

#include <set>
#include <sstream>
#include <map>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <random>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>


namespace ctr::apiserver {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Where --init puts tini inside the container.
constexpr const char* kInitPath = "/sbin/container-init";

}  // namespace

namespace detail {

// What a shim writes on its sync fd before closing it: {"ok", ...}, read
// until it closes or `timeout_ms` passes (then: whatever came, maybe nothing).
json read_sync_answer(int fd, int timeout_ms) {
    std::string answer;
    char buf[4096];
    pollfd p{fd, POLLIN, 0};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        if (::poll(&p, 1, 100) <= 0) continue;
        ssize_t got = ::read(fd, buf, sizeof buf);
        if (got <= 0) break;
        answer.append(buf, static_cast<size_t>(got));
    }
    return json::parse(answer, nullptr, false);
}

std::string random_id() {
    std::random_device rd;
    std::string s;
    const char* hex = "0123456789abcdef";
    for (int i = 0; i < 64; ++i) s += hex[rd() % 16];
    return s;
}



std::optional<json> read_exit(const fs::path& dir) {
    auto text = sys::read_file(exit_file_of(dir));
    if (!text) return std::nullopt;
    auto j = json::parse(*text, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    return j;
}

// A process that has not ended (sys::process_ended: a zombie this host's
// PID 1 is slow to reap has ended; one whose threads still exit has not).
bool alive(std::optional<int64_t> pid) { return pid && *pid > 0 && !sys::process_ended(static_cast<pid_t>(*pid)); }

}  // namespace detail

using detail::alive;
using detail::exit_file_of;
using detail::random_id;
using detail::read_exit;
using detail::read_sync_answer;

Containers::~Containers() { stop_watcher(); }

Result<store::ContainerRecord> Containers::find(const std::string& key) {
    std::lock_guard<std::mutex> lock(d_.store_mu);
    auto c = CTR_TRY(d_.store->container(key));
    if (!c) return make_error(CTR_E_NOT_FOUND, "no such container: " + key);
    return *c;
}

Status Containers::refresh(store::ContainerRecord& c) {
    std::error_code ec;
    c.paused = c.state == store::ContainerState::running && fs::exists(dir_of(c.id) / "paused", ec);
    if (c.state != store::ContainerState::running) {
        // The OOM killer's SIGKILL is the only way to 137 that it could
        // explain: no other exit needs its record read.
        if (c.exit_code == 137)
            if (auto last = read_exit(dir_of(c.id))) c.oom_killed = last->value("oom_killed", false);
        return ok();
    }
    auto exit = read_exit(dir_of(c.id));
    const bool unknown = !exit;
    bool orphaned = false;
    if (!exit) {
        auto shim_pid = sys::read_file(dir_of(c.id) / "shim.pid");
        if (shim_pid ? alive(std::atoll(shim_pid->c_str())) : alive(c.pid)) return ok();
        // The shim died without writing an exit. A process left running has
        // nobody to wait for it, log it or note its end: it is killed (the
        // finishing shim's forced delete), and its exit is SIGKILL's. With
        // neither left, the exit code is unknown.
        orphaned = alive(c.pid);
        exit = json{{"exit_code", orphaned ? 137 : 255}, {"finished_at", store::now_unix()}};
    }
    // A `wait`, a log stream and the watcher all see one exit at once: the
    // first records it (a commit, and with --rm the removal), the others take
    // the record as it stands.
    std::lock_guard<std::mutex> recording(exits_mu_);
    if (auto now = find(c.id); !now || now->state != store::ContainerState::running) {
        if (now) {
            c = *now;
        } else {  // recorded and removed (--rm) meanwhile
            c.state = store::ContainerState::stopped;
            c.exit_code = (*exit).value("exit_code", 255);
            c.pid.reset();
        }
        return ok();
    }
    if (unknown) {
        if (orphaned) spdlog::warn("container {}: its shim is gone while its process {} runs: the process is killed", c.name, *c.pid);
        else spdlog::warn("container {}: its shim is gone without an exit record", c.name);
        finish_abandoned(c, (*exit).value("exit_code", 255));
    }
    c.state = store::ContainerState::stopped;
    c.exit_code = (*exit).value("exit_code", 255);
    c.oom_killed = (*exit).value("oom_killed", false);
    c.finished_at = (*exit).value("finished_at", store::now_unix());
    c.pid.reset();
    c.paused = false;
    fs::remove(dir_of(c.id) / "paused", ec);
    // Its mount, namespace, addresses and ports go back before the record
    // says "stopped": whoever sees it stopped (a `stop`, a `system stop
    // --all`) finds them gone. A crash in between leaves it "running" with
    // its exit file, and the next look finishes the job (idempotent).
    const bool remove = c.settings().remove;
    if (!remove) (void)release_host_state(c);
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        CTR_TRY_STATUS(d_.store->update_container(c, sys::Durability::process_crash));
    }
    spdlog::info("container {} exited with code {}", c.name, *c.exit_code);
    note(c, "die", {{"exitCode", std::to_string(*c.exit_code)}});
    if (remove) {
        {
            std::lock_guard<std::mutex> lock(mu_);  // for a `wait` that comes after the removal
            removed_exits_[c.id] = *c.exit_code;
        }
        return destroy(c, true);
    }
    return ok();
}

Result<store::ContainerRecord> Containers::get(const std::string& key) {
    auto c = CTR_TRY(find(key));
    CTR_TRY_STATUS(refresh(c));
    return c;
}

Result<std::vector<store::ContainerRecord>> Containers::list() {
    std::vector<store::ContainerRecord> all;
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        all = CTR_TRY(d_.store->containers());
    }
    std::vector<store::ContainerRecord> out;
    for (auto& c : all) {
        CTR_TRY_STATUS(refresh(c));
        // (State first: settings() parses the whole config.)
        if (c.state == store::ContainerState::stopped && c.settings().remove) continue;  // just removed
        out.push_back(std::move(c));
    }
    return out;
}

namespace {

// tini, static, from the host (Debian's tini package), for --init.
Result<std::string> host_tini() {
    for (const char* c : {"/usr/bin/tini-static", "/usr/bin/docker-init", "/usr/libexec/docker/docker-init"})
        if (::access(c, X_OK) == 0) return std::string(c);
    return make_error(CTR_E_UNAVAILABLE, "--init needs a static tini on the host (apt-get install tini): /usr/bin/tini-static not found");
}

// The record of a container about to be made from `req` and the image the
// image plugin resolved: "creating", with a fresh id.
store::ContainerRecord new_record(const services::RunRequest& req, const json& image) {
    store::ContainerRecord c;
    c.id = random_id();
    c.name = req.name.empty() ? "c-" + c.id.substr(0, 12) : req.name;
    c.image = image["reference"];
    c.runtime = req.runtime;
    c.state = store::ContainerState::creating;
    c.config = req.to_json();
    c.config["image_digest"] = image["digest"];
    if (req.stop_signal.empty()) {  // the image's StopSignal, when it has one
        const auto& ic = image["config"];
        if (ic.contains("config") && ic["config"].is_object() && ic["config"].contains("StopSignal") &&
            ic["config"]["StopSignal"].is_string())
            c.config["stop_signal"] = ic["config"]["StopSignal"];
    }
    c.labels = req.labels;
    c.created_at = store::now_unix();
    return c;
}

// Why the shim says the container did not start, with the exit status the
// container gets for it: a process that could not run still ran and
// ended, as Docker reports it (127 not found, 126 not executable).
Error start_failure(const json& answer, const fs::path& dir, store::ContainerRecord& c) {
    const bool object = answer.is_object();
    std::string msg = object ? answer.value("message", "the shim failed")
                             : "the shim ended without a word (see " + (dir / "shim.log").string() + ")";
    int32_t code = object ? answer.value("code", int32_t{CTR_E_INTERNAL}) : CTR_E_INTERNAL;
    Error e{code, msg, api::process_detail(code)};
    c.state = store::ContainerState::stopped;
    c.exit_code = api::process_exit_code(code);
    c.finished_at = store::now_unix();
    return e;
}

}  // namespace

Result<store::ContainerRecord> Containers::create(const json& body) {
    attach_warmer_.kick();  // a start usually follows at once
    standby_.kick();
    auto req = CTR_TRY(services::RunRequest::from_json(body));
    if (req.memory == 0) req.memory = d_.config.container_memory;
    if (req.cpus == 0) req.cpus = d_.config.container_cpus;
    // The runtime must be one the host found; the shim will load it.
    req.runtime = CTR_TRY(d_.runtime_named(req.runtime));
    auto* images = CTR_TRY(d_.image_plugin());
    auto image = pluginhost::invoke(images->image()->resolve, images->instance(), {{"reference", req.image}}, "resolve");
    if (!image) {
        if (image.error().status == CTR_E_NOT_FOUND) return make_error(CTR_E_NOT_FOUND, "no such image: " + req.image);
        return image.error();
    }

    CTR_TRY_STATUS(check_joins(req));
    CTR_TRY_STATUS(add_volumes_from(req));
    req.network.publish = services::publish_with_exposed(req.network, (*image)["config"]);
    store::ContainerRecord c = new_record(req, *image);
    // On another's network it has the other's name, as docker gives it (the
    // record keeps the request as asked; only the spec says so).
    if (req.network.mode == services::NetworkOptions::Mode::container) {
        auto other = CTR_TRY(find(req.network.container));
        req.hostname = other.config.value("hostname", "");
        if (req.hostname.empty()) req.hostname = other.id.substr(0, 12);
    }
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        // The intent, committed: a crash from here on is rolled back at the
        // next start. Not flushed: the "created" commit below flushes both.
        CTR_TRY_STATUS(d_.store->insert_container(c, sys::Durability::process_crash));
    }
    failpoint("container-create-after-insert");
    auto undo = [&](const Error& e) -> Error {
        (void)destroy(c, true);
        return e;
    };
    fs::path dir = dir_of(c.id);
    if (auto st = sys::make_dirs(dir, 0700); !st) return undo(st.error());
    auto prepared = pluginhost::invoke(images->image()->prepare_rootfs, images->instance(),
                                    {{"reference", c.image}, {"container_id", c.id}, {"target", (dir / "rootfs").string()}},
                                    "prepare_rootfs");
    if (!prepared) return undo(prepared.error());
    auto mounts = resolve_volumes(c, req);
    if (!mounts) return undo(mounts.error());
    auto wired = networks_.wire(c, req, dir);
    if (!wired) return undo(wired.error());
    failpoint("container-create-after-network");
    // The user's own -v on /etc/hosts or /etc/resolv.conf wins over ours.
    for (const auto& m : wired->mounts)
        if (std::none_of(mounts->begin(), mounts->end(), [&](const services::ResolvedMount& x) { return x.destination == m.destination; }))
            mounts->push_back(m);
    if (req.init) {
        auto tini = host_tini();
        if (!tini) return undo(tini.error());
        mounts->push_back({*tini, kInitPath, true});
    }
    auto spec = services::make_spec(req, (*image)["config"], dir / "rootfs", c.id, cgroups_path(d_.paths, d_.cgroup_manager, d_.cgroup_base, c.id),
                                    *mounts, wired->spec);
    if (!spec) return undo(spec.error());
    if (!d_.limits)
        if (auto st = services::check_no_limits(*spec); !st) return undo(st.error());
    if (d_.single_id) services::drop_unmapped_mount_ids(*spec);
    if (req.init) {
        // It runs the command as its child, reaps orphans, passes signals on, exits with its code.
        auto& args = (*spec)["process"]["args"];
        args.insert(args.begin(), {kInitPath, "--"});
    }
    c.config["network_attachments"] = wired->attachments;
    if (prepared->contains("writable_dir")) c.config["writable_dir"] = (*prepared)["writable_dir"];
    if (prepared->contains("lower_dirs")) c.config["lower_dirs"] = (*prepared)["lower_dirs"];
    c.config["command"] = services::command_line(*spec);  // for listings, which then need not read config.json
    if (auto st = sys::write_file_atomic(dir / "config.json", spec->dump(2)); !st) return undo(st.error());
    c.state = store::ContainerState::created;
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        if (auto st = d_.store->update_container(c); !st) return undo(st.error());
    }
    spdlog::info("created container {} ({}) from {}", c.name, c.id.substr(0, 12), c.image);
    note(c, "create");
    return c;
}

std::vector<std::string> Containers::shim_argv(const store::ContainerRecord& c, bool detached) const {
    const std::string dir = dir_of(c.id).string();
    std::vector<std::string> args = {pluginhost::helper_path("container-shim").string(), "--runtime", c.runtime, "--id", c.id,
                                     "--bundle", dir, "--root", d_.paths.root().string()};
    if (detached) {
        const auto settings = c.settings();
        args.insert(args.end(), {"--state-dir", dir, "--log-max-size", std::to_string(settings.log_max_size), "--log-max-file",
                                 std::to_string(settings.log_max_file)});
    }
    return args;
}

void Containers::warn_if_unconfined(store::ContainerRecord& c) const {
    if (const auto* rt = d_.plugins->find(c.runtime); rt && rt->isolation == "none") {
        // Its manifest says it confines nothing: the user hears it at each start.
        c.warnings.push_back("runtime \"" + c.runtime + "\" confines nothing (its manifest says isolation = \"none\"): " +
                             "the container runs as root on the host");
        spdlog::warn("container {}: {}", c.name, c.warnings.back());
    }
}

std::shared_ptr<std::mutex> Containers::start_lock(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& m = start_locks_[id];
    if (!m) m = std::make_shared<std::mutex>();
    return m;
}

// The container's shim, from the standby pool when one waits there; the
// read end of its sync pipe with it.
Result<std::pair<pid_t, sys::UniqueFd>> Containers::spawn_shim(const store::ContainerRecord& c, const std::vector<std::string>& args) {
    const fs::path dir = dir_of(c.id);
    pid_t pid = -1;
    sys::UniqueFd sync_read;
    if (auto taken = standby_.take(c.runtime, args, (dir / "shim.log").string())) {
        pid = taken->pid;
        sync_read = std::move(taken->sync);
    } else {
        auto sync = CTR_TRY(sys::make_pipe());
        sync_read = std::move(sync.read);
        sys::SpawnOptions so;
        so.stdout_path = (dir / "shim.log").string();
        so.stderr_path.clear();             // with stdout
        so.pass_fds = {{sync.write.get(), 3}};
        so.new_session = true;              // the shim and its container outlive the daemon
        auto spawned = sys::spawn(args, so);
        sync.write.reset();
        if (!spawned) return spawned.error().wrap("start the shim");
        pid = *spawned;
    }
    return std::make_pair(pid, std::move(sync_read));
}

Result<store::ContainerRecord> Containers::start(const std::string& key, bool wait_attach, bool by_policy) {
    auto found = CTR_TRY(find(key));
    auto serial = start_lock(found.id);
    std::lock_guard<std::mutex> one_start(*serial);
    auto c = CTR_TRY(get(found.id));  // as it is now that no other start runs
    CTR_TRY_STATUS(store::check_action(c.name, c.state, store::ContainerAction::start));
    std::error_code ec;
    fs::path dir = dir_of(c.id);
    if (by_policy && fs::exists(dir / "user_stopped", ec)) return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " was stopped by its user");
    attach_warmer_.kick();  // done, or nearly, by the time the runtime moves the process
    // The last run's shim may still be deleting the runtime's container
    // (the exit is recorded before): a new create of the same id waits for it.
    if (auto t = sys::read_file(dir / "shim.pid"); t && alive(std::atoll(t->c_str()))) wait_for_shim(c.id, 5000);
    fs::remove(exit_file_of(dir), ec);
    fs::remove(dir / "user_stopped", ec);
    fs::remove(dir / "paused", ec);
    fs::remove(dir / "health.json", ec);  // a new run starts "starting"
    CTR_TRY_STATUS(join_namespaces(c));
    if (auto restored = restore_host_state(c); !restored) {
        (void)release_host_state(c);
        return restored.error();
    }

    std::vector<std::string> args = shim_argv(c);
    args.insert(args.end(), {"--sync-fd", "3"});
    const auto settings = c.settings();
    bool tty = settings.tty, interactive = settings.interactive;
    if (tty || interactive) {
        CTR_TRY_STATUS(sys::make_dirs(attach_socket_of(c.id).parent_path(), 0700));
        args.insert(args.end(), {"--attach-socket", attach_socket_of(c.id).string()});
        if (tty) args.push_back("--tty");
        if (interactive) args.push_back("--interactive");
        if (wait_attach) args.push_back("--wait-attach");
    }
    auto [pid, sync_read] = CTR_TRY(spawn_shim(c, args));
    {
        std::lock_guard<std::mutex> lock(mu_);
        shims_.insert(pid);
    }
    (void)sys::write_file_atomic(dir / "shim.pid", std::to_string(pid), 0600, sys::Durability::process_crash);

    // The shim tells us once the container runs (or why it does not).
    auto j = read_sync_answer(sync_read.get(), 60000);
    sync_read.reset();
    if (!j.is_object() || !j.value("ok", false)) {
        Error e = start_failure(j, dir, c);
        {
            std::lock_guard<std::mutex> lock(d_.store_mu);
            (void)d_.store->update_container(c);
        }
        (void)release_host_state(c);
        return e;
    }
    failpoint("container-start-after-shim");  // reconcile adopts the running container
    c.state = store::ContainerState::running;
    c.pid = j.value("pid", int64_t{0});
    warn_if_unconfined(c);
    if (j.contains("warnings") && j["warnings"].is_array())
        for (const auto& w : j["warnings"])
            if (w.is_string()) c.warnings.push_back(w.get<std::string>());
    c.started_at = store::now_unix();
    c.finished_at.reset();
    c.exit_code.reset();
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        CTR_TRY_STATUS(d_.store->update_container(c, sys::Durability::process_crash));
    }
    spdlog::info("started container {} (pid {})", c.name, *c.pid);
    note(c, "start");
    return c;
}

void Containers::wait_for_shim(const std::string& id, int timeout_ms, bool or_exit_file) {
    const pid_t pid = sys::read_pid_file(dir_of(id) / "shim.pid");
    sys::UniqueFd shim(pid > 0 ? static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)) : -1);
    if (!shim.valid()) {  // gone already, or no shim: nothing to wait for
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(timeout_ms, 10)));
        return;
    }
    // The exit is recorded (by the reaper) a little before the shim that
    // deletes the container ends: whoever waits for the exit wakes at once.
    std::optional<FileWatch::Subscription> exit_file;
    if (or_exit_file) {
        if (auto s = exit_files_.subscribe(dir_of(id)); s) exit_file.emplace(std::move(*s));
        if (fs::exists(exit_file_of(dir_of(id)))) return;  // it came before the watch
    }
    pollfd p[2] = {{shim.get(), POLLIN, 0}, {exit_file ? exit_file->fd() : -1, POLLIN, 0}};
    int n;
    do n = ::poll(p, 2, timeout_ms);
    while (n < 0 && errno == EINTR);
}

Result<json> Containers::wait(const std::string& key, const std::atomic<bool>& cancelled) {
    auto first = get(key);
    if (!first) {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& [id, code] : removed_exits_)
            if (id == key || id.rfind(key, 0) == 0) return json{{"exit_code", code}};
        return first.error();
    }
    auto c = *first;
    std::string id = c.id;
    while (c.state == store::ContainerState::running || c.state == store::ContainerState::creating) {
        if (cancelled || d_.stopping) return make_error(CTR_E_CANCELLED, "wait cancelled");
        wait_for_shim(id, 1000, true);
        auto again = get(id);
        if (!again) {  // removed meanwhile (--rm)
            std::lock_guard<std::mutex> lock(mu_);
            auto it = removed_exits_.find(id);
            return json{{"exit_code", it == removed_exits_.end() ? 255 : it->second}};
        }
        c = *again;
    }
    return json{{"exit_code", c.exit_code.value_or(0)}};
}

Result<std::vector<services::ResolvedMount>> Containers::resolve_volumes(const store::ContainerRecord& c,
                                                                         const services::RunRequest& req) {
    // Checked before any named volume is made for a container that would be refused.
    std::vector<std::string> destinations;
    for (const auto& v : req.volumes) destinations.push_back(v.destination);
    for (const auto& t : req.tmpfs) destinations.push_back(t.substr(0, t.find(':')));
    CTR_TRY_STATUS(services::check_destinations(dir_of(c.id) / "rootfs", destinations));
    std::vector<services::ResolvedMount> out;
    for (const auto& v : req.volumes) {
        services::ResolvedMount m;
        m.destination = v.destination;
        m.read_only = v.read_only;
        if (v.kind == services::VolumeSpec::Kind::bind) {
            std::error_code ec;
            if (!fs::exists(v.source, ec))
                return make_error(CTR_E_INVALID_ARGUMENT, "bind source \"" + v.source + "\" does not exist");
            m.source = v.source;
            out.push_back(m);
            continue;
        }
        store::VolumeRecord vol;
        if (v.kind == services::VolumeSpec::Kind::named) {
            auto found = d_.volumes->inspect(v.source);
            if (found) vol = *found;
            else if (found.error().status == CTR_E_NOT_FOUND) vol = CTR_TRY(d_.volumes->create({v.source}));
            else return found.error();
        } else {
            vol = CTR_TRY(d_.volumes->create({}));
        }
        {
            std::lock_guard<std::mutex> lock(d_.store_mu);
            CTR_TRY_STATUS(d_.store->link_volume(c.id, vol.name));
        }
        m.source = vol.mountpoint;
        out.push_back(m);
    }
    return out;
}

Status Containers::destroy(const store::ContainerRecord& c, bool volumes) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        start_locks_.erase(c.id);  // a start holding it keeps its own reference
    }
    fs::path dir = dir_of(c.id);
    std::vector<std::string> linked;
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        if (auto l = d_.store->container_volumes(c.id); l) linked = *l;
    }
    if (auto images = d_.image_plugin(); images) {
        auto st = pluginhost::invoke((*images)->image()->release_rootfs, (*images)->instance(),
                                  {{"container_id", c.id}, {"target", (dir / "rootfs").string()}}, "release_rootfs");
        if (!st) spdlog::warn("container {}: release root filesystem: {}", c.name, st.error().message);
    }
    // Addresses and links go before the record, which says what to release after a crash.
    if (auto st = networks_.unwire(c); !st) spdlog::warn("container {}: release its network: {}", c.name, st.error().message);
    // Its shim may still be finishing (the runtime's delete, a last log line) and write
    // into the folder while it goes: if a late file kept it, wait for the shim and remove
    // what is left. (Not waited for first: `run --rm` would wait for the runtime's delete.)
    std::error_code ec;
    (void)sys::write_file_atomic(removing_mark_of(c.id), "", 0600, sys::Durability::process_crash);
    fs::remove_all(dir, ec);
    for (int attempt = 0; attempt < 3 && fs::exists(dir, ec); ++attempt) {
        wait_for_shim(c.id, 5000);
        fs::remove_all(dir, ec);
    }
    if (fs::exists(dir, ec)) spdlog::warn("container {}: cannot remove {}: {}", c.name, dir.string(), ec.message());
    failpoint("container-remove-before-record");  // reconcile finishes the removal
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        CTR_TRY_STATUS(d_.store->delete_container(c.id));  // and, by cascade, its volume links
    }
    fs::remove(removing_mark_of(c.id), ec);
    note(c, "destroy");
    if (volumes)
        for (const auto& name : linked)
            if (auto v = d_.volumes->inspect(name); v && v->anonymous) (void)d_.volumes->remove(name, true);
    return ok();
}

Status Containers::remove(const std::string& key, bool force, bool volumes) {
    auto c = CTR_TRY(get(key));
    CTR_TRY_STATUS(store::check_action(c.name, c.state, store::ContainerAction::remove, force));
    if (c.state == store::ContainerState::running) {
        c = CTR_TRY(stop(c.id, 0, SIGKILL));
        // The exit is recorded before the shim has the runtime delete the
        // container: `rm -f` returns once its runtime state and cgroup are
        // gone too, as docker's does. (A container that had exited before
        // is not waited for, so `run --rm` does not pay for the delete.)
        wait_for_shim(c.id, 5000);
    }
    CTR_TRY_STATUS(destroy(c, volumes));
    spdlog::info("removed container {}", c.name);
    return ok();
}

}  // namespace ctr::apiserver
