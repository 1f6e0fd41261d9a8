#include "apiserver/containers.hpp"
#include "apiserver/health.hpp"
#include "api/mux_frame.hpp"

#include "base/failpoint.hpp"
#include "plugins/call.hpp"
#include "plugins/host_env.hpp"
#include "sys/files.hpp"
#include "sys/netns.hpp"
#include "sys/process.hpp"
#include "sys/spawn.hpp"

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

// Each root gets its own cgroup parent, so parallel roots never collide.
std::string cgroup_parent(const Paths& paths) {
    return "/container-" + std::to_string(std::hash<std::string>()(paths.root().string()) % 1000000007ULL);
}

Result<plugins::LoadedPlugin*> image_plugin(Daemon& d) { return d.plugins->get("image-oci", CTR_KIND_IMAGE); }

std::optional<json> read_exit(const fs::path& dir) {
    auto text = sys::read_file(dir / "exit.json");
    if (!text) return std::nullopt;
    auto j = json::parse(*text, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    return j;
}

// A process that has not ended (sys::process_ended: a zombie this host's
// PID 1 is slow to reap has ended; one whose threads still exit has not).
bool alive(std::optional<int64_t> pid) { return pid && *pid > 0 && !sys::process_ended(static_cast<pid_t>(*pid)); }

}  // namespace

Containers::~Containers() { stop_watcher(); }

void Containers::stop_watcher() {
    {
        std::lock_guard<std::mutex> lock(stop_mu_);
        stop_ = true;
    }
    stop_cv_.notify_all();
    if (watcher_.joinable()) watcher_.join();
}

Result<store::ContainerRecord> Containers::find(const std::string& key) {
    std::lock_guard<std::mutex> lock(d_.store_mu);
    auto c = CTR_TRY(d_.store->container(key));
    if (!c) return make_error(CTR_E_NOT_FOUND, "no such container: " + key);
    return *c;
}

Status Containers::refresh(store::ContainerRecord& c) {
    if (c.state != "running") return ok();
    auto exit = read_exit(dir_of(c.id));
    const bool unknown = !exit;
    if (!exit) {
        auto shim_pid = sys::read_file(dir_of(c.id) / "shim.pid");
        if (shim_pid) {
            int64_t sp = std::atoll(shim_pid->c_str());
            if (alive(sp) || alive(c.pid)) return ok();
        } else if (alive(c.pid)) {
            return ok();
        }
        // Neither the shim nor the process is there, and no exit was written:
        // the shim died. The exit code is unknown.
        exit = json{{"exit_code", 255}, {"finished_at", store::now_unix()}};
    }
    // A `wait`, a log stream and the watcher all see one exit at once: the
    // first records it (a commit, and with --rm the removal), the others take
    // the record as it stands.
    std::lock_guard<std::mutex> recording(exits_mu_);
    if (auto now = find(c.id); !now || now->state != "running") {
        if (now) {
            c = *now;
        } else {  // recorded and removed (--rm) meanwhile
            c.state = "stopped";
            c.exit_code = (*exit).value("exit_code", 255);
            c.pid.reset();
        }
        return ok();
    }
    if (unknown) {
        spdlog::warn("container {}: its shim is gone without an exit record", c.name);
        finish_abandoned(c);
    }
    c.state = "stopped";
    c.exit_code = (*exit).value("exit_code", 255);
    c.finished_at = (*exit).value("finished_at", store::now_unix());
    c.pid.reset();
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        CTR_TRY_STATUS(d_.store->update_container(c, sys::Durability::process_crash));
    }
    spdlog::info("container {} exited with code {}", c.name, *c.exit_code);
    if (c.config.value("rm", false)) {
        {
            std::lock_guard<std::mutex> lock(mu_);  // for a `wait` that comes after the removal
            removed_exits_[c.id] = *c.exit_code;
        }
        return destroy(c, true);
    }
    (void)release_host_state(c);  // its mount, namespace, addresses and ports go back
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
        if (c.config.value("rm", false) && c.state == "stopped") continue;  // just removed
        out.push_back(c);
    }
    return out;
}

Result<store::ContainerRecord> Containers::create(const json& body) {
    attach_warmer_.kick();  // a start usually follows at once
    standby_.kick();
    auto req = CTR_TRY(services::RunRequest::from_json(body));
    if (req.runtime.empty()) req.runtime = d_.config.container_runtime;
    if (req.memory == 0) req.memory = d_.config.container_memory;
    if (req.cpus == 0) req.cpus = d_.config.container_cpus;
    // The runtime must be one the host found; the shim will load it.
    // "microvm" names runtime-microvm, as Apple's and podman's short names do.
    const auto* rt = d_.plugins->find(req.runtime);
    if (!rt && d_.plugins->find("runtime-" + req.runtime)) {
        req.runtime = "runtime-" + req.runtime;
        rt = d_.plugins->find(req.runtime);
    }
    if (rt && rt->kind == "runtime" && rt->state != plugins::PluginState::loaded)
        return make_error(CTR_E_UNAVAILABLE, "runtime \"" + req.runtime + "\" is unavailable: " + rt->reason);
    if (!rt || rt->kind != "runtime" || rt->state != plugins::PluginState::loaded) {
        std::string available;
        for (const auto& e : d_.plugins->entries())
            if (e.kind == "runtime" && e.state == plugins::PluginState::loaded) available += (available.empty() ? "" : ", ") + e.name;
        return make_error(CTR_E_NOT_FOUND, "unknown runtime \"" + req.runtime + "\" (available: " + (available.empty() ? "none" : available) + ")");
    }
    auto* images = CTR_TRY(image_plugin(d_));
    auto image = plugins::invoke(images->image()->resolve, images->instance(), {{"reference", req.image}}, "resolve");
    if (!image) {
        if (image.error().status == CTR_E_NOT_FOUND) return make_error(CTR_E_NOT_FOUND, "no such image: " + req.image);
        return image.error();
    }

    store::ContainerRecord c;
    c.id = random_id();
    c.name = req.name.empty() ? "c-" + c.id.substr(0, 12) : req.name;
    c.image = (*image)["reference"];
    c.runtime = req.runtime;
    c.state = "creating";
    c.config = req.to_json();
    c.config["image_digest"] = (*image)["digest"];
    if (req.stop_signal.empty()) {  // the image's StopSignal, when it has one
        const auto& ic = (*image)["config"];
        if (ic.contains("config") && ic["config"].is_object() && ic["config"].contains("StopSignal") &&
            ic["config"]["StopSignal"].is_string())
            c.config["stop_signal"] = ic["config"]["StopSignal"];
    }
    c.labels = req.labels;
    c.created_at = store::now_unix();
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
    auto prepared = plugins::invoke(images->image()->prepare_rootfs, images->instance(),
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
        // tini, static, from the host (Debian's tini package), read-only.
        static const char* const candidates[] = {"/usr/bin/tini-static", "/usr/bin/docker-init", "/usr/libexec/docker/docker-init"};
        std::string found;
        for (const char* c2 : candidates)
            if (::access(c2, X_OK) == 0) {
                found = c2;
                break;
            }
        if (found.empty())
            return undo(make_error(CTR_E_UNAVAILABLE, "--init needs a static tini on the host (apt-get install tini): /usr/bin/tini-static not found"));
        mounts->push_back({found, kInitPath, true});
    }
    auto spec = services::make_spec(req, (*image)["config"], dir / "rootfs", c.id, cgroup_parent(d_.paths), *mounts, wired->spec);
    if (!spec) return undo(spec.error());
    if (req.init) {
        // It runs the command as its child, reaps orphans, passes signals on,
        // and exits with the command's code.
        auto& args = (*spec)["process"]["args"];
        args.insert(args.begin(), {kInitPath, "--"});
    }
    c.config["network_attachments"] = wired->attachments;
    if (prepared->contains("writable_dir")) c.config["writable_dir"] = (*prepared)["writable_dir"];
    if (auto st = sys::write_file_atomic(dir / "config.json", spec->dump(2)); !st) return undo(st.error());
    c.state = "created";
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        if (auto st = d_.store->update_container(c); !st) return undo(st.error());
    }
    spdlog::info("created container {} ({}) from {}", c.name, c.id.substr(0, 12), c.image);
    return c;
}

std::vector<std::string> Containers::shim_argv(const store::ContainerRecord& c) const {
    const std::string dir = dir_of(c.id).string();
    return {plugins::helper_path("container-shim").string(), "--runtime", c.runtime, "--id", c.id, "--bundle", dir,
            "--root", d_.paths.root().string(), "--state-dir", dir};
}

void Containers::finish_abandoned(const store::ContainerRecord& c) {
    // A shim that died (killed outright) never had its runtime delete the
    // container: what the runtime made (its state, cgroups, a VM's traces)
    // is still there. A shim in finish mode does that delete now.
    fs::path dir = dir_of(c.id);
    std::vector<std::string> args = shim_argv(c);
    args.insert(args.end(), {"--exit-code", "255"});
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

Result<store::ContainerRecord> Containers::start(const std::string& key, bool wait_attach) {
    auto c = CTR_TRY(get(key));
    if (c.state == "running") return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is already running");
    if (c.state != "created" && c.state != "stopped")
        return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is " + c.state);
    attach_warmer_.kick();  // done, or nearly, by the time the runtime moves the process
    fs::path dir = dir_of(c.id);
    // The last run's shim may still be deleting the runtime's container
    // (the exit is recorded before): a new create of the same id waits for it.
    if (auto t = sys::read_file(dir / "shim.pid"); t && alive(std::atoll(t->c_str()))) wait_for_shim(c.id, 5000);
    std::error_code ec;
    fs::remove(dir / "exit.json", ec);
    fs::remove(dir / "user_stopped", ec);
    fs::remove(dir / "health.json", ec);  // a new run starts "starting"
    if (auto restored = restore_host_state(c); !restored) {
        (void)release_host_state(c);
        return restored.error();
    }

    std::vector<std::string> args = shim_argv(c);
    args.insert(args.end(), {"--sync-fd", "3"});
    bool tty = c.config.value("tty", false), interactive = c.config.value("interactive", false);
    if (tty || interactive) {
        CTR_TRY_STATUS(sys::make_dirs(attach_socket_of(c.id).parent_path(), 0700));
        args.insert(args.end(), {"--attach-socket", attach_socket_of(c.id).string()});
        if (tty) args.push_back("--tty");
        if (interactive) args.push_back("--interactive");
        if (wait_attach) args.push_back("--wait-attach");
    }
    pid_t pid = -1;
    sys::UniqueFd sync_read;
    if (auto taken = standby_.take(c.runtime, args, (dir / "shim.log").string())) {
        pid = taken->pid;
        sync_read = std::move(taken->sync);
    } else {
        int sync[2];
        if (::pipe2(sync, O_CLOEXEC) != 0) return sys::errno_error("pipe", dir, errno);
        sync_read.reset(sync[0]);
        sys::SpawnOptions so;
        so.stdout_path = (dir / "shim.log").string();
        so.stderr_path.clear();             // with stdout
        so.pass_fds = {{sync[1], 3}};
        so.new_session = true;              // the shim and its container outlive the daemon
        auto spawned = sys::spawn(args, so);
        ::close(sync[1]);
        if (!spawned) return spawned.error().wrap("start the shim");
        pid = *spawned;
    }
    {
        std::lock_guard<std::mutex> lock(mu_);
        shims_.insert(pid);
    }
    (void)sys::write_file_atomic(dir / "shim.pid", std::to_string(pid), 0600, sys::Durability::process_crash);

    // The shim tells us once the container runs (or why it does not).
    auto j = read_sync_answer(sync_read.get(), 60000);
    sync_read.reset();
    if (!j.is_object() || !j.value("ok", false)) {
        std::string msg = j.is_object() ? j.value("message", "the shim failed") : "the shim ended without a word (see " + (dir / "shim.log").string() + ")";
        int32_t code = j.is_object() ? j.value("code", int32_t{CTR_E_INTERNAL}) : CTR_E_INTERNAL;
        Error e{code, msg, 0};
        if (code == CTR_E_NOT_FOUND) e.detail_code = kDetailExecNotFound;
        if (code == CTR_E_PERMISSION_DENIED) e.detail_code = kDetailExecDenied;
        // A process that could not run still ran and ended, as Docker reports it.
        c.state = "stopped";
        c.exit_code = code == CTR_E_NOT_FOUND ? 127 : code == CTR_E_PERMISSION_DENIED ? 126 : 125;
        c.finished_at = store::now_unix();
        {
            std::lock_guard<std::mutex> lock(d_.store_mu);
            (void)d_.store->update_container(c);
        }
        (void)release_host_state(c);
        return e;
    }
    c.state = "running";
    c.pid = j.value("pid", int64_t{0});
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
    return c;
}

Result<Containers::ExecPlan> Containers::plan_exec(const std::string& key, const json& body) {
    ExecPlan plan;
    auto c = CTR_TRY(get(key));
    json process = CTR_TRY(exec_process(c, body));
    plan.container_id = c.id;
    plan.dir = dir_of(c.id);
    plan.exec_id = "e" + random_id().substr(0, 16);
    plan.process_file = plan.dir / ("exec-" + plan.exec_id + ".json");
    CTR_TRY_STATUS(sys::write_file_atomic(plan.process_file, process.dump(), 0600, sys::Durability::process_crash));
    plan.args = {plugins::helper_path("container-shim").string(), "--runtime", c.runtime, "--id", c.id, "--bundle", plan.dir.string(),
                 "--root", d_.paths.root().string(), "--exec-id", plan.exec_id, "--process-file", plan.process_file.string()};
    return plan;
}

Result<json> Containers::exec_attached(const std::string& key, const json& body) {
    ExecPlan plan = CTR_TRY(plan_exec(key, body));
    const fs::path& dir = plan.dir;
    const std::string& exec_id = plan.exec_id;
    fs::path exit_file = dir / ("exec-" + exec_id + ".exit.json");
    CTR_TRY_STATUS(sys::make_dirs(attach_socket_of(exec_id).parent_path(), 0700));
    std::vector<std::string> args = plan.args;
    args.insert(args.end(), {"--attach-socket", attach_socket_of(exec_id).string(), "--exit-file", exit_file.string(), "--sync-fd", "3"});
    if (body.value("tty", false)) args.push_back("--tty");
    if (body.value("interactive", false)) args.push_back("--interactive");
    int sync[2];
    if (::pipe2(sync, O_CLOEXEC) != 0) return sys::errno_error("pipe", dir, errno);
    sys::SpawnOptions so;
    so.stdout_path = (dir / "shim.log").string();
    so.stderr_path.clear();
    so.pass_fds = {{sync[1], 3}};
    so.new_session = true;
    auto spawned = sys::spawn(args, so);
    ::close(sync[1]);
    sys::UniqueFd sync_read(sync[0]);
    if (!spawned) return spawned.error().wrap("start the exec shim");
    {
        std::lock_guard<std::mutex> lock(mu_);
        shims_.insert(*spawned);
        execs_[exec_id] = {plan.container_id, *spawned, exit_file, plan.process_file};
    }
    // The shim answers once its socket listens; the process runs when the client attached.
    auto j = read_sync_answer(sync_read.get(), 10000);
    if (!j.is_object() || !j.value("ok", false))
        return make_error(CTR_E_INTERNAL, j.is_object() ? j.value("message", "the exec shim failed") : "the exec shim ended without a word");
    return json{{"exec_id", exec_id}};
}

Result<json> Containers::exec_detached(const std::string& key, const json& body) {
    ExecPlan plan = CTR_TRY(plan_exec(key, body));
    fs::path process_file = plan.process_file;
    sys::SpawnOptions so;  // output is nobody's, as Docker's exec -d
    so.new_session = true;
    auto spawned = sys::spawn(plan.args, so);
    if (!spawned) {
        std::error_code ec;
        fs::remove(process_file, ec);
        return spawned.error().wrap("start the exec shim");
    }
    // A thread of its own reaps it and removes its process file.
    std::thread([pid = *spawned, process_file] {
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        std::error_code ec;
        fs::remove(process_file, ec);
    }).detach();
    return json{{"exec_id", plan.exec_id}};
}

Result<json> Containers::exec_wait(const std::string& exec_id) {
    ExecRecord e;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = execs_.find(exec_id);
        if (it == execs_.end()) return make_error(CTR_E_NOT_FOUND, "no exec \"" + exec_id + "\"");
        e = it->second;
    }
    for (;;) {
        std::error_code ec;
        if (fs::exists(e.exit_file, ec)) {
            auto j = json::parse(CTR_TRY(sys::read_file(e.exit_file)), nullptr, false);
            std::lock_guard<std::mutex> lock(mu_);
            execs_.erase(exec_id);
            fs::remove(e.exit_file, ec);
            fs::remove(e.process_file, ec);
            return json{{"exit_code", j.is_object() ? j.value("exit_code", 125) : 125}};
        }
        if (::kill(e.pid, 0) != 0 && errno == ESRCH) return make_error(CTR_E_INTERNAL, "the exec shim ended without an exit code");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

Result<sys::UniqueFd> Containers::connect_exec(const std::string& exec_id) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!execs_.count(exec_id)) return make_error(CTR_E_NOT_FOUND, "no exec \"" + exec_id + "\"");
    }
    return connect_socket(attach_socket_of(exec_id).string(), "exec " + exec_id);
}

Result<sys::UniqueFd> Containers::connect_socket(const std::string& path, const std::string& what) {
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (!fd.valid() || path.size() >= sizeof a.sun_path) return make_error(CTR_E_INTERNAL, "attach socket \"" + path + "\" unusable");
    std::memcpy(a.sun_path, path.c_str(), path.size());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        return make_error(CTR_E_FAILED_PRECONDITION, what + " takes no attach now: " + std::strerror(errno));
    return fd;
}

Result<sys::UniqueFd> Containers::connect_attach(const std::string& key) {
    auto c = CTR_TRY(get(key));
    if (!c.config.value("tty", false) && !c.config.value("interactive", false))
        return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " was made without -i or -t: there is nothing to attach to (use logs -f)");
    if (c.state != "running") return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is " + c.state + ", not running");
    return connect_socket(attach_socket_of(c.id).string(), "container " + c.name);
}


Result<json> Containers::exec_process(const store::ContainerRecord& c, const json& body) {
    if (c.state != "running") return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is not running");
    if (!body.is_object() || !body.contains("cmd") || !body["cmd"].is_array() || body["cmd"].empty())
        return make_error(CTR_E_INVALID_ARGUMENT, "exec needs a non-empty \"cmd\" array");
    for (const auto& [k, v] : body.items())
        if (k != "cmd" && k != "env" && k != "workdir" && k != "user" && k != "tty" && k != "interactive" && k != "detach")
            return make_error(CTR_E_INVALID_ARGUMENT, "unknown field \"" + k + "\"");
    // The container's own process settings, with the command and overrides.
    fs::path dir = dir_of(c.id);
    auto spec = json::parse(CTR_TRY(sys::read_file(dir / "config.json")), nullptr, false);
    if (!spec.is_object()) return make_error(CTR_E_INTERNAL, "config.json of " + c.name + " is not json");
    json process = spec["process"];
    process["args"] = body["cmd"];
    if (body.contains("env")) {
        std::vector<std::string> overrides;
        for (const auto& e : body["env"]) {
            if (!e.is_string()) return make_error(CTR_E_INVALID_ARGUMENT, "exec: \"env\" must be an array of strings");
            overrides.push_back(e);
        }
        process["env"] = services::merge_env(process.value("env", std::vector<std::string>{}), overrides);
    }
    if (body.contains("workdir")) process["cwd"] = body["workdir"];
    if (body.contains("user")) {
        std::string u = body["user"];
        auto colon = u.find(':');
        try {
            process["user"] = {{"uid", std::stoll(u.substr(0, colon))},
                               {"gid", colon == std::string::npos ? 0 : std::stoll(u.substr(colon + 1))}};
        } catch (...) {
            return make_error(CTR_E_INVALID_ARGUMENT, "exec --user takes uid[:gid], not \"" + u + "\"");
        }
    }
    process["terminal"] = body.value("tty", false);
    if (body.value("tty", false)) {
        bool has_term = false;
        for (const auto& e : process["env"]) has_term = has_term || e.get<std::string>().rfind("TERM=", 0) == 0;
        if (!has_term) process["env"].push_back("TERM=xterm");
    }
    return process;
}

Status Containers::exec(const std::string& key, const json& body, const Writer& write) {
    ExecPlan plan = CTR_TRY(plan_exec(key, body));
    const fs::path& dir = plan.dir;
    const fs::path& process_file = plan.process_file;

    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return sys::errno_error("pipe", dir, errno);
    if (::pipe2(err, O_CLOEXEC) != 0) {
        ::close(out[0]);
        ::close(out[1]);
        return sys::errno_error("pipe", dir, errno);
    }
    sys::SpawnOptions so;
    so.stdout_fd = out[1];
    so.stderr_fd = err[1];
    auto spawned = sys::spawn(plan.args, so);
    ::close(out[1]);
    ::close(err[1]);
    if (!spawned) {
        ::close(out[0]);
        ::close(err[0]);
        return spawned.error();
    }
    pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    bool client_gone = false;
    int open_count = 2;
    char buf[16384];
    while (open_count > 0) {
        if (::poll(p, 2, -1) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = ::read(p[i].fd, buf, sizeof buf);
            if (n <= 0) {
                ::close(p[i].fd);
                p[i].fd = -1;
                --open_count;
                continue;
            }
            if (!client_gone && !write(api::mux_frame(static_cast<uint8_t>(i + 1), std::string_view(buf, static_cast<size_t>(n)))))
                client_gone = true;  // keep draining so the process is not blocked on a full pipe
        }
    }
    int status = 0;
    while (::waitpid(*spawned, &status, 0) < 0 && errno == EINTR) {
    }
    std::error_code ec;
    fs::remove(process_file, ec);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (!client_gone) write(api::mux_frame(3, json{{"exit_code", code}}.dump()));
    return ok();
}

namespace {

std::optional<int64_t> read_number(const fs::path& file) {
    auto text = sys::read_file(file);
    if (!text || text->empty()) return std::nullopt;
    if (text->rfind("max", 0) == 0) return -1;
    try {
        return std::stoll(*text);
    } catch (...) {
        return std::nullopt;
    }
}

}  // namespace

Result<json> Containers::stats(const std::string& key) {
    auto c = CTR_TRY(get(key));
    if (c.state != "running" || !alive(c.pid)) return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is not running");
    std::string pid = std::to_string(*c.pid);
    json out = {{"id", c.id}, {"name", c.name}};
    // Each controller's path comes from /proc/PID/cgroup: runtimes place them differently.
    auto cgroups = CTR_TRY(sys::read_file("/proc/" + pid + "/cgroup"));
    std::istringstream lines(cgroups);
    std::string line;
    while (std::getline(lines, line)) {
        auto a = line.find(':'), b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
        auto has = [&](const char* name) { return ("," + controllers + ",").find(std::string(",") + name + ",") != std::string::npos; };
        if (has("memory")) {
            fs::path dir = fs::path("/sys/fs/cgroup/memory") / path.substr(1);
            out["memory"]["usage"] = read_number(dir / "memory.usage_in_bytes").value_or(0);
            int64_t limit = read_number(dir / "memory.limit_in_bytes").value_or(-1);
            out["memory"]["limit"] = limit >= (int64_t{1} << 62) ? -1 : limit;  // v1 says "no limit" with a huge number
        }
        if (has("pids")) {
            fs::path dir = fs::path("/sys/fs/cgroup/pids") / path.substr(1);
            out["pids"]["current"] = read_number(dir / "pids.current").value_or(0);
            out["pids"]["limit"] = read_number(dir / "pids.max").value_or(-1);
        }
        if (has("cpuacct")) {
            std::string mount = fs::exists("/sys/fs/cgroup/cpuacct") ? "/sys/fs/cgroup/cpuacct" : "/sys/fs/cgroup/cpu,cpuacct";
            out["cpu_ns"] = read_number(fs::path(mount) / path.substr(1) / "cpuacct.usage").value_or(0);
        }
        if (has("blkio")) {
            auto io = sys::read_file(fs::path("/sys/fs/cgroup/blkio") / path.substr(1) / "blkio.throttle.io_service_bytes");
            int64_t rd = 0, wr = 0;
            std::istringstream il(io ? *io : "");
            std::string dev, op;
            int64_t n = 0;
            while (il >> dev >> op >> n) {
                if (op == "Read") rd += n;
                if (op == "Write") wr += n;
            }
            out["blkio"] = {{"read_bytes", rd}, {"write_bytes", wr}};
        }
    }
    // The network namespace's interfaces, as the container sees them: its
    // own pinned namespace (a VM's proxy process lives in the host's), else
    // its process's (--network host).
    auto dev = fs::exists(networks_.netns_of(c.id)) ? sys::read_in_netns(networks_.netns_of(c.id), "/proc/thread-self/net/dev")
                                                     : sys::read_file("/proc/" + pid + "/net/dev");
    int64_t rx = 0, tx = 0;
    std::istringstream dl(dev ? *dev : "");
    while (std::getline(dl, line)) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::istringstream f(line.substr(colon + 1));
        std::vector<int64_t> v;
        int64_t x;
        while (f >> x) v.push_back(x);
        if (v.size() >= 9) {
            rx += v[0];
            tx += v[8];
        }
    }
    out["net"] = {{"rx_bytes", rx}, {"tx_bytes", tx}};
    // The runtime's own numbers win where it has them: a VM's memory is its
    // size and what QEMU holds, not the cgroup of a proxy on the host.
    if (auto own = runtime_stats(c)) {
        if (own->contains("memory") && (*own)["memory"].is_object()) out["memory"] = (*own)["memory"];
        if (own->contains("cpu") && (*own)["cpu"].is_object() && (*own)["cpu"].contains("usage_ns")) out["cpu_ns"] = (*own)["cpu"]["usage_ns"];
    }
    return out;
}

std::optional<json> Containers::runtime_stats(const store::ContainerRecord& c) {
    std::vector<std::string> args = shim_argv(c);
    args.resize(args.size() - 2);  // not --state-dir: no detached container of its own
    args.push_back("--stats");
    sys::RunOptions o;
    o.timeout_ms = 5000;
    auto r = sys::run_capture(args, o);
    if (!r || !r->status.success()) return std::nullopt;
    auto j = json::parse(r->out, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    return j;
}

Status Containers::rename(const std::string& key, const std::string& name) {
    static const std::regex re("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    if (!std::regex_match(name, re))
        return make_error(CTR_E_INVALID_ARGUMENT, "invalid container name \"" + name + "\": want [A-Za-z0-9][A-Za-z0-9_.-]*, at most 63 characters");
    auto c = CTR_TRY(get(key));
    std::lock_guard<std::mutex> lock(d_.store_mu);
    return d_.store->rename_container(c.id, name);
}

Result<json> Containers::top(const std::string& key) {
    auto c = CTR_TRY(get(key));
    if (c.state != "running" || !alive(c.pid)) return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is not running");
    // Every process in the container's PID namespace, seen from the host.
    // A container without a PID namespace of its own (a VM runtime's, whose
    // processes live in the guest) shows the processes of its cgroup: never
    // the host's.
    std::string ns;
    std::error_code ec;
    ns = fs::read_symlink("/proc/" + std::to_string(*c.pid) + "/ns/pid", ec).string();
    const bool own_ns = ns != fs::read_symlink("/proc/self/ns/pid", ec).string();
    std::set<std::string> members;
    if (!own_ns) {
        auto cgroups = CTR_TRY(sys::read_file("/proc/" + std::to_string(*c.pid) + "/cgroup"));
        std::istringstream lines(cgroups);
        std::string line;
        while (std::getline(lines, line)) {
            auto a = line.find(':'), b = line.find(':', a + 1);
            if (a == std::string::npos || b == std::string::npos) continue;
            std::string controllers = "," + line.substr(a + 1, b - a - 1) + ",", path = line.substr(b + 1);
            fs::path procs = controllers == ",," ? fs::path("/sys/fs/cgroup") / path.substr(1) / "cgroup.procs"
                             : controllers.find(",pids,") != std::string::npos ? fs::path("/sys/fs/cgroup/pids") / path.substr(1) / "cgroup.procs"
                                                                               : fs::path();
            if (procs.empty()) continue;
            auto text = sys::read_file(procs);
            std::istringstream pids(text ? *text : std::string());
            for (std::string pid; std::getline(pids, pid);) members.insert(pid);
        }
    }
    json out = json::array();
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::error_code ec2;
        if (own_ns ? fs::read_symlink(e.path() / "ns/pid", ec2).string() != ns || ec2 : !members.count(name)) continue;
        auto stat = sys::read_file(e.path() / "stat");
        auto cmd = sys::read_file(e.path() / "cmdline");
        if (!stat || !cmd) continue;
        auto close = stat->rfind(')');
        int64_t ppid = 0;
        if (close != std::string::npos) std::sscanf(stat->c_str() + close + 2, "%*c %lld", reinterpret_cast<long long*>(&ppid));
        std::replace(cmd->begin(), cmd->end(), '\0', ' ');
        while (!cmd->empty() && cmd->back() == ' ') cmd->pop_back();
        // A zombie, or a process between exec and its first page, has no
        // command line: name it by its comm in brackets, as ps does.
        if (cmd->empty()) {
            auto open = stat->find('(');
            if (open == std::string::npos || close == std::string::npos || close < open) continue;
            *cmd = "[" + stat->substr(open + 1, close - open - 1) + "]";
        }
        out.push_back({{"pid", std::stoll(name)}, {"ppid", ppid}, {"command", *cmd}});
    }
    return out;
}

Status Containers::kill(const std::string& key, int signal) {
    auto c = CTR_TRY(get(key));
    if (c.state != "running") return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is not running");
    if (signal == SIGKILL || signal == SIGTERM) (void)sys::write_file_atomic(dir_of(c.id) / "user_stopped", "", 0600);
    if (!alive(c.pid) || ::kill(static_cast<pid_t>(*c.pid), signal) != 0)
        return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is not running");
    return ok();
}

void Containers::wait_for_shim(const std::string& id, int timeout_ms, bool or_exit_file) {
    auto text = sys::read_file(dir_of(id) / "shim.pid");
    int pid = text ? std::atoi(text->c_str()) : 0;
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
        if (fs::exists(dir_of(id) / "exit.json")) return;  // it came before the watch
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
    while (c.state == "running" || c.state == "creating") {
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

int signal_number(std::string s) {
    static const std::map<std::string, int> names = {{"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
                                                     {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"STOP", SIGSTOP},
                                                     {"CONT", SIGCONT}, {"WINCH", SIGWINCH}};
    if (s.rfind("SIG", 0) == 0) s = s.substr(3);
    if (auto n = names.find(s); n != names.end()) return n->second;
    if (!s.empty() && s.size() < 4 && s.find_first_not_of("0123456789") == std::string::npos) {
        int v = std::atoi(s.c_str());
        if (v >= 1 && v <= 64) return v;
    }
    return -1;
}

std::pair<int, int> Containers::stop_defaults(const store::ContainerRecord& c) {
    int timeout = static_cast<int>(c.config.value("stop_timeout", int64_t{-1}));
    int signal = signal_number(c.config.value("stop_signal", ""));
    return {timeout < 0 ? 10 : timeout, signal < 0 ? SIGTERM : signal};
}

Result<store::ContainerRecord> Containers::stop(const std::string& key, int timeout_s, int signal) {
    auto c = CTR_TRY(get(key));
    // A container the user stopped stays stopped, whatever its --restart says.
    (void)sys::write_file_atomic(dir_of(c.id) / "user_stopped", "", 0600);
    if (c.state != "running") return c;  // idempotent
    if (alive(c.pid)) ::kill(static_cast<pid_t>(*c.pid), signal);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < deadline && c.state == "running") {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        c = CTR_TRY(get(c.id));
    }
    if (c.state == "running") {
        if (alive(c.pid)) ::kill(static_cast<pid_t>(*c.pid), SIGKILL);
        for (int i = 0; i < 200 && c.state == "running"; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            c = CTR_TRY(get(c.id));
        }
    }
    return c;
}

Result<std::vector<services::ResolvedMount>> Containers::resolve_volumes(const store::ContainerRecord& c,
                                                                         const services::RunRequest& req) {
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
    fs::path dir = dir_of(c.id);
    std::vector<std::string> linked;
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        if (auto l = d_.store->container_volumes(c.id); l) linked = *l;
    }
    if (auto images = image_plugin(d_); images) {
        auto st = plugins::invoke((*images)->image()->release_rootfs, (*images)->instance(),
                                  {{"container_id", c.id}, {"target", (dir / "rootfs").string()}}, "release_rootfs");
        if (!st) spdlog::warn("container {}: release root filesystem: {}", c.name, st.error().message);
    }
    // Addresses and links go before the record: until the record is gone, a
    // crash leaves it to say what to release.
    if (auto st = networks_.unwire(c); !st) spdlog::warn("container {}: release its network: {}", c.name, st.error().message);
    std::error_code ec;
    fs::remove_all(dir, ec);
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        CTR_TRY_STATUS(d_.store->delete_container(c.id));  // and, by cascade, its volume links
    }
    if (volumes)
        for (const auto& name : linked)
            if (auto v = d_.volumes->inspect(name); v && v->anonymous) (void)d_.volumes->remove(name, true);
    return ok();
}

Status Containers::remove(const std::string& key, bool force, bool volumes) {
    auto c = CTR_TRY(get(key));
    if (c.state == "running") {
        if (!force) return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is running: stop it first or use --force");
        c = CTR_TRY(stop(c.id, 0, SIGKILL));
    }
    CTR_TRY_STATUS(destroy(c, volumes));
    spdlog::info("removed container {}", c.name);
    return ok();
}

Result<std::vector<std::string>> Containers::reconcile() {
    std::vector<store::ContainerRecord> all;
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        all = CTR_TRY(d_.store->containers());
    }
    std::vector<std::string> done;
    for (auto& c : all) {
        if (c.state == "creating") {
            CTR_TRY_STATUS(destroy(c, true));
            done.push_back("rolled back the creation of container " + c.name);
        } else if (c.state == "running") {
            CTR_TRY_STATUS(refresh(c));
            if (c.state != "running") done.push_back("container " + c.name + " exited while no daemon ran");
        }
    }
    return done;
}

void Containers::maybe_restart(const store::ContainerRecord& c) {
    std::string policy = c.config.value("restart", std::string("no"));
    if (policy == "no" || d_.stopping) return;
    fs::path dir = dir_of(c.id);
    std::error_code ec;
    if (fs::exists(dir / "user_stopped", ec)) return;
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
    auto st = start(c.id);
    if (st) spdlog::info("restarted container {} (restart {}, policy {})", c.name, restarts + 1, policy);
    else spdlog::warn("restart of container {} failed: {}", c.name, st.error().message);
}

void Containers::release_cgroup_parent() const {
    std::string parent = cgroup_parent(d_.paths);
    std::vector<fs::path> places = {"/sys/fs/cgroup" + parent};  // a unified hierarchy
    std::error_code ec;
    for (const auto& h : fs::directory_iterator("/sys/fs/cgroup", ec))
        if (h.is_directory(ec)) places.push_back(h.path().string() + parent);
    // A container that just exited may still have its cgroup, which its shim
    // is deleting: wait for that, up to a second. One with a process in it
    // runs on: the parent stays.
    for (int attempt = 0; attempt < 50; ++attempt) {
        bool busy = false, running = false;
        for (const auto& place : places) {
            if (::rmdir(place.c_str()) == 0 || errno == ENOENT) continue;
            busy = true;
            for (const auto& child : fs::directory_iterator(place, ec)) {
                auto procs = sys::read_file(child.path() / "cgroup.procs");
                if (child.is_directory(ec) && procs && !procs->empty()) running = true;
            }
        }
        if (!busy || running) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void Containers::start_watcher(std::function<void(const std::vector<store::ContainerRecord>&)> after_each) {
    after_each_ = std::move(after_each);
    watcher_ = std::thread([this] { watch(); });
}

void Containers::watch() {
    for (;;) {
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
        auto all = list();  // refreshes every running container: exits, --rm
        if (!all) {
            spdlog::warn("container watcher: {}", all.error().message);
            continue;
        }
        for (const auto& c : *all)
            if (c.state == "stopped") maybe_restart(c);
        if (after_each_) after_each_(*all);
    }
}

}  // namespace ctr::apiserver
