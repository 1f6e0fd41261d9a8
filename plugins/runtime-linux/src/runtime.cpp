#include "runtime.hpp"

#include "executable.hpp"
#include "seccomp_bpf.hpp"

#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>
#include <ctr/sys/userns.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <poll.h>
#include <regex>
#include <sstream>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace runtime_linux {

namespace fs = std::filesystem;

namespace {

bool not_found_message(std::string m) {
    for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return m.find("does not exist") != std::string::npos || m.find("not found") != std::string::npos ||
           m.find("no such file") != std::string::npos;
}

// Opens the stdio paths of a request; absent stdin is /dev/null, absent
// stdout/stderr are /dev/null too (the shim always passes its own).
struct OpenStdio {
    int fds[3] = {-1, -1, -1};
    ~OpenStdio() {
        for (int fd : fds)
            if (fd >= 0) ::close(fd);
    }
    ctr::Status open(const json& req) {
        const char* keys[3] = {"stdin", "stdout", "stderr"};
        for (int i = 0; i < 3; ++i) {
            std::string path = req.value(keys[i], std::string("/dev/null"));
            fds[i] = ::open(path.c_str(), (i == 0 ? O_RDONLY : O_WRONLY | O_APPEND | O_CREAT) | O_CLOEXEC, 0600);
            if (fds[i] < 0)
                return ctr::make_error(CTR_E_INVALID_ARGUMENT, std::string("open ") + keys[i] + " \"" + path + "\": " + std::strerror(errno));
        }
        return ctr::ok();
    }
    Stdio stdio() const { return Stdio{fds[0], fds[1], fds[2]}; }
};

ctr::Error oci_error(const OciRun& run, const std::string& what) {
    std::string msg = run.error.empty() ? what + " failed with exit code " + std::to_string(run.exit_code) : what + ": " + run.error;
    int32_t status = not_found_message(run.error) ? CTR_E_NOT_FOUND : CTR_E_INTERNAL;
    if (run.error.find("Permission denied") != std::string::npos) status = CTR_E_PERMISSION_DENIED;
    return ctr::make_error(static_cast<ctr_status>(status), msg);
}

}  // namespace

ctr::Status Runtime::init() {
    json settings = host().settings();
    std::string wanted = settings.value("oci_runtime", "crun");
    binary_.path = ctr::sys::find_program(wanted);
    if (binary_.path.empty()) return ctr::make_error(CTR_E_UNAVAILABLE, "oci runtime \"" + wanted + "\" not found on PATH");
    binary_.state_root = (fs::path(host().state_dir()) / "oci" / binary_.name()).string();
    std::error_code ec;
    fs::create_directories(binary_.state_root, ec);
    if (ec) return ctr::make_error(CTR_E_UNAVAILABLE, "create " + binary_.state_root + ": " + ec.message());
    binary_.hide_unified = binary_.name() == "crun" && ctr::sys::hybrid_cgroups();
    // Rootless (a user's daemon, root of its own user namespace): the host's
    // cgroups are ours to make only where a subtree was delegated, which
    // the daemon says (sys::may_make_cgroups). runc sees the namespace and
    // lets a cgroup it cannot make go; crun must be told.
    if (binary_.name() == "crun" && !ctr::sys::may_make_cgroups())
        binary_.global_args = {"--cgroup-manager=disabled"};
    // A daemon whose cgroups systemd makes (CONTAINER_CGROUP_MANAGER, its
    // cgroupsPath "SLICE:PREFIX:NAME"): runc and crun ask systemd for a
    // scope, on every command (the spelling both accept).
    const char* manager = std::getenv("CONTAINER_CGROUP_MANAGER");
    if (manager && std::string(manager) == "systemd") binary_.global_args.push_back("--systemd-cgroup");
    const json precompile = settings.value("precompile_seccomp", json(true));
    if (!precompile.is_boolean())
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "setting precompile_seccomp must be true or false, not " + precompile.dump());
    const char* own = std::getenv("CONTAINER_OWN_BUNDLES");
    precompile_seccomp_ = binary_.name() == "crun" && own && std::string(own) == "1" && precompile.get<bool>();
    // Orphaned container processes come to us, so that we can wait for them.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    host().debug("using " + binary_.path + (binary_.hide_unified ? " (hybrid cgroups: private mount namespace)" : ""));
    return ctr::ok();
}

ctr::Status Runtime::check_id(const std::string& id) const {
    static const std::regex re("[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}");
    if (!std::regex_match(id, re)) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "invalid container id \"" + id + "\"");
    return ctr::ok();
}

ctr::Result<json> Runtime::oci_state(const std::string& id) {
    auto run = CTR_TRY(run_oci(binary_, {"state", id}));
    if (run.exit_code != 0) {
        if (not_found_message(run.error) || run.error.empty())
            return ctr::make_error(CTR_E_NOT_FOUND, "no container \"" + id + "\"");
        return oci_error(run, "state");
    }
    auto j = json::parse(run.out, nullptr, false);
    if (!j.is_object()) return ctr::make_error(CTR_E_INTERNAL, binary_.name() + " state printed no json");
    return j;
}

void Runtime::reap(Process& p, bool block) {
    if (p.exited || p.pid <= 0) return;
    int status = 0;
    pid_t r;
    do r = ::waitpid(p.pid, &status, block ? 0 : WNOHANG); while (r < 0 && errno == EINTR);
    if (r == p.pid) {
        p.exited = true;
        if (WIFEXITED(status)) p.exit_code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) {
            p.signal = WTERMSIG(status);
            p.exit_code = 128 + p.signal;
        }
    } else if (r < 0 && errno == ECHILD) {  // not ours (e.g. created by another shim): cannot know
        p.exited = true;
        p.exit_code = 255;
    }
}

ctr::Result<json> Runtime::create(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    CTR_TRY_STATUS(check_id(id));
    std::string bundle = CTR_TRY(ctr::sdk::get_string(req, "bundle"));
    // A terminal: the OCI runtime makes the pty and sends its master to the
    // caller's console socket; the bundle's process.terminal must say so too.
    bool terminal = CTR_TRY(ctr::sdk::get_bool(req, "terminal", false));
    auto console = CTR_TRY(ctr::sdk::get_opt_string(req, "console_socket"));
    if (terminal && !console) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "a terminal needs \"console_socket\"");
    std::error_code ec;
    if (!fs::exists(fs::path(bundle) / "config.json", ec))
        return ctr::make_error(CTR_E_NOT_FOUND, "no config.json in bundle \"" + bundle + "\"");
    // Only in a bundle that is our daemon's (an engine's config.json through
    // container-oci stays as the engine wrote it). The programs outlive the
    // containers: kept in the plugin's own state, away from the runtimes'
    // per-container folders.
    if (precompile_seccomp_) (void)precompile_seccomp(bundle, fs::path(host().state_dir()) / "seccomp-cache");
    // The caller's fds 3.. for the container (container-oci's --preserve-fds,
    // e.g. podman's socket activation): this process's own, passed on as runc does.
    const int64_t preserve = CTR_TRY(ctr::sdk::get_int(req, "preserve_fds", 0));
    if (preserve < 0 || preserve > 1024)
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "field \"preserve_fds\" must be 0 to 1024, not " + std::to_string(preserve));
    OpenStdio io;
    CTR_TRY_STATUS(io.open(req));
    auto pid_file = fs::path(binary_.state_root) / (id + ".pid");
    std::vector<std::string> args = {"create", "--bundle", bundle, "--pid-file", pid_file.string()};
    if (terminal) {
        args.push_back("--console-socket");
        args.push_back(*console);
    }
    if (preserve > 0) {
        args.push_back("--preserve-fds");
        args.push_back(std::to_string(preserve));
    }
    args.push_back(id);
    Stdio stdio = io.stdio();
    stdio.preserve = static_cast<int>(preserve);
    auto run = CTR_TRY(run_oci(binary_, args, stdio));
    if (run.exit_code != 0) {
        if (run.error.find("already exists") != std::string::npos)  // and it is not ours to delete
            return ctr::make_error(CTR_E_ALREADY_EXISTS, "container \"" + id + "\" already exists");
        (void)run_oci(binary_, {"delete", "--force", id});  // nothing half-made stays
        return oci_error(run, "create");
    }
    std::ifstream in(pid_file);
    pid_t pid = 0;
    in >> pid;
    fs::remove(pid_file, ec);
    {
        std::lock_guard<std::mutex> lock(mu_);
        inits_[id] = Process{pid};
        execs_.erase(id);
    }
    // The init is our caller's child (we made it a subreaper) and `crun delete`
    // needs nothing of this instance: the caller may wait for it itself.
    json result = {{"id", id}, {"pid", pid}, {"waitable_by_caller", true}};
    if (preserve > 0) result["preserve_fds"] = preserve;  // said, so that the caller knows they went
    // runc's version is asked only for a container the flaw could reach: it
    // is a Go process (15 ms of CPU here), which every container's shim ran
    // beside the container's start when it was asked at the plugin's load.
    if (binary_.name() == "runc") {
        std::ifstream spec_file(fs::path(bundle) / "config.json");
        auto spec = json::parse(spec_file, nullptr, false);
        if (!nested_bind_mount(spec).first.empty()) {
            std::call_once(flaws_asked_, [this] { flaws_ = known_flaws(binary_); });
            if (auto w = mkdir_race_warning(flaws_, binary_, spec); !w.empty()) result["warnings"] = json::array({w});
        }
    }
    return result;
}

ctr::Result<json> Runtime::start(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    // No state query first: every runtime call costs a process, and start is
    // on the path of every `run`. The runtime refuses a wrong state itself.
    auto run = CTR_TRY(run_oci(binary_, {"start", id}));
    if (run.exit_code == 0) return json();
    auto st = oci_state(id);
    if (!st) return st.error();
    if (st->value("status", "") != "created")
        return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is " + st->value("status", "unknown") + ", not created");
    return oci_error(run, "start");
}

ctr::Result<json> Runtime::kill(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    int64_t sig = CTR_TRY(ctr::sdk::get_int(req, "signal", SIGTERM));
    if (sig < 1 || sig > 64) return ctr::make_error(CTR_E_INVALID_ARGUMENT, "field \"signal\" must be a signal number from 1 to 64");
    bool all = CTR_TRY(ctr::sdk::get_bool(req, "all", false));
    json st = CTR_TRY(oci_state(id));
    if (st.value("status", "") == "stopped")
        return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is not running");
    std::vector<std::string> args = {"kill"};
    if (all) args.push_back("--all");
    args.push_back(id);
    args.push_back(std::to_string(sig));
    auto run = CTR_TRY(run_oci(binary_, args));
    if (run.exit_code != 0) return oci_error(run, "kill");
    return json();
}

ctr::Result<json> Runtime::pause(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    json st = CTR_TRY(oci_state(id));
    if (st.value("status", "") != "running")
        return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is " + st.value("status", "not running") + ", not running");
    // The freezer is a cgroup's: a rootless daemon without a delegated
    // subtree has none to freeze (as a runtime that cannot pause: commit
    // then goes on unpaused).
    if (!ctr::sys::may_make_cgroups())
        return ctr::make_error(CTR_E_UNIMPLEMENTED, "cannot pause container \"" + id + "\": it has no cgroup (a rootless daemon without a delegated cgroup subtree)");
    auto run = CTR_TRY(run_oci(binary_, {"pause", id}));
    if (run.exit_code != 0) return oci_error(run, "pause");
    return json::object();
}

ctr::Result<json> Runtime::resume(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    json st = CTR_TRY(oci_state(id));
    if (st.value("status", "") != "paused")
        return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is " + st.value("status", "not running") + ", not paused");
    auto run = CTR_TRY(run_oci(binary_, {"resume", id}));
    if (run.exit_code != 0) return oci_error(run, "resume");
    return json::object();
}

// The new limits go to the OCI runtime as a resources file (linux.resources'
// shape) in the container's bundle, as both crun and runc take it.
ctr::Result<json> Runtime::update(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    if (!req.contains("resources") || !req["resources"].is_object())
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "field \"resources\" must be an object");
    json st = CTR_TRY(oci_state(id));
    const std::string status = st.value("status", "");
    if (status != "running" && status != "paused")
        return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is not running");
    const std::string file = st.value("bundle", std::string("/tmp")) + "/resources-update.json";
    {
        std::ofstream out(file, std::ios::trunc);
        out << req["resources"].dump();
        if (!out) return ctr::make_error(CTR_E_INTERNAL, "write " + file);
    }
    auto run = run_oci(binary_, {"update", "--resources", file, id});
    std::remove(file.c_str());
    if (!run) return run.error();
    if (run->exit_code != 0) return oci_error(*run, "update");
    return json::object();
}

ctr::Result<json> Runtime::state(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    json st = CTR_TRY(oci_state(id));
    return json{{"ociVersion", st.value("ociVersion", "1.0.2")}, {"id", id}, {"status", st.value("status", "unknown")},
                {"pid", st.value("pid", 0)}, {"bundle", st.value("bundle", "")}};
}

ctr::Result<json> Runtime::wait(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    std::string exec_id = CTR_TRY(ctr::sdk::get_opt_string(req, "exec_id")).value_or("");
    int64_t timeout = CTR_TRY(ctr::sdk::get_int(req, "timeout_ms", -1));
    Process* p = nullptr;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (exec_id.empty()) {
            auto it = inits_.find(id);
            if (it != inits_.end()) p = &it->second;
        } else if (auto c = execs_.find(id); c != execs_.end()) {
            auto e = c->second.find(exec_id);
            if (e != c->second.end()) p = &e->second;
        }
    }
    if (!p) {
        if (!oci_state(id)) return ctr::make_error(CTR_E_NOT_FOUND, "no container \"" + id + "\"");
        return ctr::make_error(CTR_E_NOT_FOUND, "no process to wait for in \"" + id + "\"" + (exec_id.empty() ? "" : " (exec " + exec_id + ")"));
    }
    if (!p->exited && timeout >= 0) {
        int fd = static_cast<int>(::syscall(SYS_pidfd_open, p->pid, 0));
        if (fd >= 0) {
            pollfd pfd{fd, POLLIN, 0};
            int n;
            do n = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(timeout, INT32_MAX))); while (n < 0 && errno == EINTR);
            ::close(fd);
            if (n == 0) return ctr::make_error(CTR_E_DEADLINE_EXCEEDED, "container \"" + id + "\" still running after " + std::to_string(timeout) + " ms");
        }
    }
    reap(*p, true);
    json out = {{"exit_code", p->exit_code}};
    if (p->signal) out["signal"] = p->signal;
    return out;
}

ctr::Result<json> Runtime::remove(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    bool force = CTR_TRY(ctr::sdk::get_bool(req, "force", false));
    if (!force) {  // only a careful delete needs to know the state first
        auto st = oci_state(id);
        if (!st) {
            if (st.error().status == CTR_E_NOT_FOUND) return json();  // idempotent
            return st.error();
        }
        if ((*st).value("status", "") == "running")
            return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is running (use force)");
    }
    std::vector<std::string> args = {"delete"};
    if (force) args.push_back("--force");
    args.push_back(id);
    auto run = CTR_TRY(run_oci(binary_, args));
    if (run.exit_code != 0 && !not_found_message(run.error)) return oci_error(run, "delete");  // gone already: fine
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = inits_.find(id); it != inits_.end()) {
        reap(it->second, false);
        inits_.erase(it);
    }
    if (auto it = execs_.find(id); it != execs_.end()) {
        for (auto& [eid, p] : it->second) reap(p, false);
        execs_.erase(it);
    }
    return json();
}

ctr::Result<json> Runtime::exec(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    std::string exec_id = CTR_TRY(ctr::sdk::get_string(req, "exec_id"));
    CTR_TRY_STATUS(check_id(exec_id));
    if (!req.contains("process") || !req["process"].is_object())
        return ctr::make_error(CTR_E_INVALID_ARGUMENT, "field \"process\" must be an object");
    json st = CTR_TRY(oci_state(id));
    if (st.value("status", "") != "running") return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is not running");
    CTR_TRY_STATUS(find_executable(static_cast<pid_t>(st.value("pid", 0)), req["process"]));
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (execs_[id].count(exec_id)) return ctr::make_error(CTR_E_ALREADY_EXISTS, "exec id \"" + exec_id + "\" already used in \"" + id + "\"");
    }
    // Beside the OCI runtime's root, not in it: every directory there is a
    // container to the runtime.
    auto dir = fs::path(binary_.state_root + ".exec");
    std::error_code ec;
    fs::create_directories(dir, ec);
    auto process_file = dir / (id + "." + exec_id + ".json");
    auto pid_file = dir / (id + "." + exec_id + ".pid");
    {
        std::ofstream out(process_file);
        out << req["process"].dump();
    }
    OpenStdio io;
    CTR_TRY_STATUS(io.open(req));
    std::vector<std::string> args = {"exec", "--detach", "--process", process_file.string(), "--pid-file", pid_file.string()};
    // A terminal (process.terminal): its master goes to the caller's socket.
    if (auto console = CTR_TRY(ctr::sdk::get_opt_string(req, "console_socket"))) {
        args.push_back("--console-socket");
        args.push_back(*console);
    }
    args.push_back(id);
    auto run = CTR_TRY(run_oci(binary_, args, io.stdio()));
    fs::remove(process_file, ec);
    if (run.exit_code != 0) {
        fs::remove(pid_file, ec);
        return oci_error(run, "exec");
    }
    std::ifstream in(pid_file);
    pid_t pid = 0;
    in >> pid;
    fs::remove(pid_file, ec);
    std::lock_guard<std::mutex> lock(mu_);
    execs_[id][exec_id] = Process{pid};
    return json{{"exec_id", exec_id}, {"pid", pid}};
}

ctr::Result<json> Runtime::stats(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    json st = CTR_TRY(oci_state(id));
    int pid = st.value("pid", 0);
    json out = json::object();
    // The cgroups of the container's first process, on whichever layout the host has.
    const auto u = ctr::sys::Cgroups().usage(pid);
    if (u.memory_usage) out["memory"]["usage"] = *u.memory_usage;
    if (u.memory_limit) out["memory"]["limit"] = *u.memory_limit;
    if (u.pids_current) out["pids"]["current"] = *u.pids_current;
    if (u.cpu_ns) out["cpu"]["usage_ns"] = *u.cpu_ns;
    return out;
}

ctr::Result<json> Runtime::processes(const json& req) {
    std::string id = CTR_TRY(ctr::sdk::get_string(req, "id"));
    json st = CTR_TRY(oci_state(id));
    const std::string status = st.value("status", "");
    if (status != "running" && status != "paused")
        return ctr::make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is " + (status.empty() ? "not running" : status) + ", not running");
    json list = json::array();
    for (const auto& p : ctr::sys::container_processes(st.value("pid", 0)))
        list.push_back({{"pid", p.pid}, {"ppid", p.ppid}, {"command", p.command}});
    return json{{"processes", std::move(list)}, {"pid_namespace", "host"}};
}

}  // namespace runtime_linux
