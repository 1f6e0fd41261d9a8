#include "oci/oci_front.hpp"
#include "oci/crash_guard.hpp"
#include "oci/monitor.hpp"
#include "oci/oci_log.hpp"

#include <ctr/base/paths.hpp>
#include <ctr/pluginhost/call.hpp>
#include <ctr/pluginhost/host_env.hpp>
#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/io.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <iterator>
#include <optional>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <fcntl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace ctr::oci {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// runc's words, which engines match: containerd and podman look for
// "does not exist" and "not running" in what a failed call said.
constexpr const char* kNotExist = "container does not exist";

constexpr const char* kPluginAnnotation = "org.container.oci.plugin";

// The fd on which a detached exec's waiting child says its process started.
constexpr const char* kExecSyncEnv = "CONTAINER_OCI_EXEC_SYNC";

const json kOurStdio = {{"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}};

std::string now_rfc3339_nanos() {
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() % 1000000000;
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[64], out[96];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(out, sizeof out, "%s.%09lldZ", buf, static_cast<long long>(ns));
    return out;
}

bool valid_id(const std::string& id) {
    if (id.empty() || id.size() > 1024 || id == "." || id == "..") return false;
    for (char c : id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '+')) return false;
    return true;
}

int write_pid_file(const std::string& file, int64_t pid) {
    if (file.empty()) return 0;
    if (auto st = sys::write_file_atomic(file, std::to_string(pid), 0644, sys::Durability::process_crash); !st)
        return log_error(st.error().message);
    return 0;
}

// A file's text; "{}" when unreadable, which every caller parses as nothing.
std::string text_of(const fs::path& file) {
    auto text = sys::read_file(file);
    return text ? *text : "{}";
}

std::string random_exec_id() {
    std::random_device rd;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
    return buf;
}

}  // namespace

std::string plugin_for(const Globals& g, const std::string& id, const std::string& bundle) {
    if (valid_id(id)) {
        auto record = json::parse(text_of(fs::path(g.root) / "containers" / (id + ".json")), nullptr, false);
        if (record.is_object() && record.contains("plugin") && record["plugin"].is_string()) return record["plugin"];
    }
    if (!bundle.empty()) {
        auto config = json::parse(text_of(fs::path(bundle) / "config.json"), nullptr, false);
        if (config.is_object() && config.contains("annotations") && config["annotations"].is_object()) {
            auto it = config["annotations"].find(kPluginAnnotation);
            if (it != config["annotations"].end() && it->is_string() && !it->get<std::string>().empty()) return *it;
        }
    }
    return g.plugin;
}

Result<std::string> plugin_named(const Globals& g) {
    if (!g.plugin.empty()) return g.plugin;
    // None named: the one runtime there is, or the one whose manifest says
    // default, as the daemon chooses when its config names none.
    return pluginhost::Registry::default_of(pluginhost::default_registry_options(Paths(g.root)), CTR_KIND_RUNTIME, "--plugin");
}

int parse_signal(const std::string& s) {
    if (s.empty()) return 0;
    if (s.find_first_not_of("0123456789") == std::string::npos) {
        int n = std::atoi(s.c_str());
        return n > 0 && n < 65 ? n : 0;
    }
    std::string name = s.rfind("SIG", 0) == 0 ? s.substr(3) : s;
    for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (int i = 1; i < 32; ++i)
        if (const char* abbrev = ::sigabbrev_np(i); abbrev && name == abbrev) return i;
    return 0;
}

Result<std::unique_ptr<Front>> Front::open(const Globals& g) {
    std::unique_ptr<Front> f(new Front());
    f->g_ = g;
    Paths paths(g.root);
    auto options = pluginhost::default_registry_options(paths);
    f->g_.plugin = CTR_TRY(plugin_named(g));
    options.only_name = f->g_.plugin;
    f->registry_ = pluginhost::Registry::scan(options);
    auto plugin = CTR_TRY(f->registry_->get(f->g_.plugin, CTR_KIND_RUNTIME));
    f->rt_ = plugin->runtime();
    f->inst_ = plugin->instance();
    f->holds_containers_ = plugin->manifest().holds_containers;
    CTR_TRY_STATUS(sys::make_dirs(fs::path(g.root) / "containers", 0700));
    return f;
}

Result<json> Front::call(ctr_op op, const json& req, const char* name) {
    if (!op) return make_error(CTR_E_UNIMPLEMENTED, "runtime " + g_.plugin + " cannot " + name);
    // A held container is its monitor's to call; once the monitor is gone,
    // the container has ended.
    if (holds_containers_ && req.contains("id") && std::string(name) != "create") {
        const std::string id = req["id"].get<std::string>();
        auto r = call_monitor(monitor_paths(id), name, req);
        if (!r && r.error().status == CTR_E_UNAVAILABLE) return after_monitor(id, name, req);
        return r;
    }
    // The plugin runs in this process: its crash in any call on a container
    // is reported as an error, not as our death (crash_guard.hpp).
    std::optional<CrashGuard> guard;
    if (req.contains("id") && req["id"].is_string()) guard.emplace(self_argv({"after-crash", req["id"].get<std::string>(), name, "SIGNAL"}));
    return pluginhost::invoke(op, inst_, req, name);
}

MonitorPaths Front::monitor_paths(const std::string& id) const {
    return MonitorPaths{fs::path(g_.root) / "monitors", id, fs::path(g_.root) / "containers" / (id + ".exit")};
}

Result<json> Front::after_monitor(const std::string& id, const char* name, const json& req) {
    const std::string op = name;
    const auto paths = monitor_paths(id);
    std::error_code ec;
    if (op == "delete") {
        // What its monitor did not take down (it was killed): the plugin's
        // own cleanup of a container no instance holds.
        auto r = pluginhost::invoke(rt_->delete_container, inst_, req, name);
        fs::remove(paths.exit, ec);
        return r;
    }
    if (op == "state") {
        auto record = json::parse(text_of(record_of(id)), nullptr, false);
        return json{{"ociVersion", "1.0.2"}, {"id", id}, {"status", "stopped"}, {"pid", 0},
                    {"bundle", record.is_object() ? record.value("bundle", "") : ""}};
    }
    if (op == "wait") {
        auto status = json::parse(text_of(paths.exit), nullptr, false);
        return status.is_object() ? status : json{{"exit_code", 255}};
    }
    return make_error(CTR_E_FAILED_PRECONDITION, "container \"" + id + "\" is not running");
}

Result<json> Front::create_in_monitor(const std::string& id, const json& req) {
    auto sync = sys::make_pipe(O_CLOEXEC);
    if (!sync) return sync.error();
    const std::vector<std::string> argv = self_argv({"monitor", id, req.dump(), "3"});
    sys::SpawnOptions so;
    so.stdin_fd = 0;  // the container's stdio is the engine's, as ours is
    so.stdout_fd = 1;
    so.stderr_fd = 2;
    so.pass_fds = {{sync->write.get(), 3}};
    auto pid = sys::spawn(argv, so);
    if (!pid) return pid.error();
    sync->write.reset();
    std::string answer;
    char buf[4096];
    for (ssize_t n; (n = ::read(sync->read.get(), buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        answer.append(buf, static_cast<size_t>(n));
    }
    auto report = json::parse(answer, nullptr, false);
    if (!report.is_object() || !report.value("ok", false)) {
        int status = 0;
        ::waitpid(*pid, &status, 0);  // it ended after saying why
        if (!report.is_object()) {
            // It died in create (the plugin crashed): what it made is the
            // plugin's to take down, from here.
            (void)pluginhost::invoke(rt_->delete_container, inst_, {{"id", id}, {"force", true}}, "delete");
            const std::string how = WIFSIGNALED(status) ? std::string("signal ") + std::to_string(WTERMSIG(status)) : "exit " + std::to_string(WEXITSTATUS(status));
            return make_error(CTR_E_INTERNAL, "runtime plugin " + g_.plugin + " ended the monitor of \"" + id + "\" during create (" + how + ")");
        }
        return Error{report.value("status", static_cast<int32_t>(CTR_E_INTERNAL)), report.value("message", std::string("create failed")), 0};
    }
    // It goes on without us: the engine's reaper becomes its parent.
    return json{{"id", id}, {"pid", report.value("pid", 0)}};
}

int Front::monitor(const std::string& id, const std::string& request, int sync_fd) {
    auto req = json::parse(request, nullptr, false);
    if (!req.is_object()) return log_error("monitor: the request is not JSON");
    return run_monitor(*rt_, inst_, monitor_paths(id), req, sync_fd);
}

fs::path Front::record_of(const std::string& id) const { return fs::path(g_.root) / "containers" / (id + ".json"); }

Result<json> Front::known_state(const std::string& id) {
    std::error_code ec;
    if (!valid_id(id) || !fs::exists(record_of(id), ec)) return make_error(CTR_E_NOT_FOUND, kNotExist);
    auto st = call(rt_->state, {{"id", id}}, "state");
    if (!st && st.error().status == CTR_E_NOT_FOUND) return make_error(CTR_E_NOT_FOUND, kNotExist);
    return st;
}

int Front::created(const std::string& id, const CreateOptions& o, bool keep_stdio_ours) {
    if (!valid_id(id)) return log_error("invalid container id \"" + id + "\"");
    if (o.preserve_fds < 0) return log_error("--preserve-fds must not be negative");
    std::error_code ec;
    const fs::path bundle = fs::absolute(o.bundle, ec);
    if (!fs::exists(bundle / "config.json", ec)) return log_error("open " + (bundle / "config.json").string() + ": no such file or directory");
    if (fs::exists(record_of(id), ec)) return log_error("container with given ID already exists");
    json req = {{"id", id}, {"bundle", bundle.string()}};
    // The container's stdio is ours, as under runc: the plugin opens paths,
    // and ours reopen the same pipes, files and terminals.
    if (keep_stdio_ours) req.update(kOurStdio);
    if (!o.console_socket.empty()) req.update({{"terminal", true}, {"console_socket", fs::absolute(o.console_socket, ec).string()}});
    // Our fds 3.. are the engine's (socket activation): the plugin runs in
    // this process and passes them on itself.
    if (o.preserve_fds > 0) req["preserve_fds"] = o.preserve_fds;
    // The record first: a crash mid-create leaves something `delete` finds.
    json record = {{"id", id}, {"bundle", bundle.string()}, {"created", now_rfc3339_nanos()}, {"plugin", g_.plugin}};
    if (auto st = sys::write_file_atomic(record_of(id), record.dump(), 0600); !st) return log_error(st.error().message);
    auto made = [&]() -> Result<json> {
        if (holds_containers_) return create_in_monitor(id, req);
        return call(rt_->create, req, "create");
    }();
    const std::string no_fds = "--preserve-fds: runtime " + g_.plugin + " passes no extra file descriptors";
    if (!made) {
        fs::remove(record_of(id), ec);
        // A runtime that does not know the field refuses it (GEN-004).
        if (o.preserve_fds > 0 && made.error().message.find("\"preserve_fds\"") != std::string::npos) return log_error(no_fds);
        return log_error(made.error().message);
    }
    // One that takes unknown fields made the container without them: not
    // what the engine asked for, so it goes again.
    if (o.preserve_fds > 0 && made->value("preserve_fds", int64_t{0}) != o.preserve_fds) {
        (void)call(rt_->delete_container, {{"id", id}, {"force", true}}, "delete");
        fs::remove(record_of(id), ec);
        return log_error(no_fds);
    }
    return write_pid_file(o.pid_file, made->value("pid", int64_t{0}));
}

// This program again, on the same root, log and plugin (a monitor, a
// detached exec's waiter, what runs after a plugin's crash).
std::vector<std::string> Front::self_argv(std::initializer_list<std::string> command) const {
    // By its real path, so that ps shows what runs (a monitor lives on).
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    std::vector<std::string> argv = {ec ? "/proc/self/exe" : self.string(), "--root", g_.root, "--plugin", g_.plugin};
    if (const auto& log = log_target(); !log.file.empty()) argv.insert(argv.end(), {"--log", log.file, "--log-format", log.format});
    argv.insert(argv.end(), command);
    return argv;
}

// After a plugin crashed in call `op` on container `id`: CrashGuard runs
// this with the signal's number last. A crash in create takes back what
// was made (to the engine the container never was); after any other call
// the record stays, so that the engine's delete clears what is there.
int Front::after_crash(const std::string& id, const std::string& op, const std::string& signal) {
    const int sig = std::atoi(signal.c_str());
    const char* what = sig > 0 ? ::sigdescr_np(sig) : nullptr;
    const std::string crashed = "runtime plugin " + g_.plugin + " crashed during " + op + " (signal " + signal + (what ? std::string(": ") + what : "") + ")";
    if (op != "create") return log_error(crashed);
    (void)call(rt_->delete_container, {{"id", id}, {"force", true}}, "delete");
    std::error_code ec;
    fs::remove(record_of(id), ec);
    return log_error(crashed + "; container \"" + id + "\" was not created");
}

int Front::create(const std::string& id, const CreateOptions& o) { return created(id, o, true); }

int Front::start(const std::string& id) {
    auto st = known_state(id);
    if (!st) return log_error(st.error().message);
    const std::string status = st->value("status", "");
    if (status == "stopped") return log_error("cannot start a container that has stopped");
    if (status == "running") return log_error("cannot start an already running container");
    auto started = call(rt_->start, {{"id", id}}, "start");
    return started ? 0 : log_error(started.error().message);
}

int Front::run(const std::string& id, const CreateOptions& o, bool detach) {
    if (int rc = created(id, o, true); rc != 0) return rc;
    if (auto started = call(rt_->start, {{"id", id}}, "start"); !started) {
        (void)call(rt_->delete_container, {{"id", id}, {"force", true}}, "delete");
        std::error_code ec;
        fs::remove(record_of(id), ec);
        return log_error(started.error().message);
    }
    if (detach) return 0;
    // In the foreground, as runc: wait, delete, and exit with its status.
    auto waited = call(rt_->wait, {{"id", id}}, "wait");
    (void)call(rt_->delete_container, {{"id", id}, {"force", true}}, "delete");
    std::error_code ec;
    fs::remove(record_of(id), ec);
    if (!waited) return log_error(waited.error().message);
    return static_cast<int>(waited->value("exit_code", 255));
}

int Front::state(const std::string& id) {
    auto st = known_state(id);
    if (!st) return log_error(st.error().message);
    auto record = json::parse(text_of(record_of(id)), nullptr, false);
    if (!record.is_object()) record = json::object();
    std::string rootfs;
    const std::string bundle = st->value("bundle", record.value("bundle", ""));
    auto config = json::parse(text_of(fs::path(bundle) / "config.json"), nullptr, false);
    if (config.is_object() && config.contains("root")) {
        fs::path p = config["root"].value("path", "");
        rootfs = (p.is_absolute() ? p : fs::path(bundle) / p).lexically_normal().string();
    }
    json out = {{"ociVersion", st->value("ociVersion", "1.0.2")},
                {"id", id},
                {"pid", st->value("status", "") == "stopped" ? 0 : st->value("pid", 0)},
                {"status", st->value("status", "unknown")},
                {"bundle", bundle},
                {"rootfs", rootfs},
                {"created", record.value("created", std::string())},
                {"owner", ""}};
    if (config.is_object() && config.contains("annotations")) out["annotations"] = config["annotations"];
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
}

int Front::kill(const std::string& id, const std::string& signal, bool all) {
    const int sig = parse_signal(signal.empty() ? "TERM" : signal);
    if (sig == 0) return log_error("unknown signal \"" + signal + "\"");
    auto st = known_state(id);
    if (!st) return log_error(st.error().message);
    if (st->value("status", "") == "stopped") return log_error("container not running");
    auto done = call(rt_->kill, {{"id", id}, {"signal", sig}, {"all", all}}, "kill");
    if (!done) return log_error(done.error().status == CTR_E_FAILED_PRECONDITION ? "container not running" : done.error().message);
    return 0;
}

int Front::remove(const std::string& id, bool force) {
    std::error_code ec;
    if (!valid_id(id) || !fs::exists(record_of(id), ec)) return force ? 0 : log_error(kNotExist);
    if (!force) {
        auto st = call(rt_->state, {{"id", id}}, "state");
        if (st && st->value("status", "") != "stopped" && st->value("status", "") != "created")
            return log_error("cannot delete container " + id + " that is not stopped: " + st->value("status", ""));
    }
    auto gone = call(rt_->delete_container, {{"id", id}, {"force", force}}, "delete");
    if (!gone) return log_error(gone.error().message);
    fs::remove(record_of(id), ec);
    return 0;
}

int Front::list(const std::string& format, bool quiet) {
    json all = json::array();
    std::error_code ec;
    std::vector<fs::path> records;
    for (const auto& e : fs::directory_iterator(fs::path(g_.root) / "containers", ec))
        if (e.path().extension() == ".json") records.push_back(e.path());
    std::sort(records.begin(), records.end());
    for (const auto& file : records) {
        auto record = json::parse(text_of(file), nullptr, false);
        if (!record.is_object()) continue;
        const std::string id = record.value("id", "");
        auto st = call(rt_->state, {{"id", id}}, "state");
        const std::string status = st ? st->value("status", "unknown") : "stopped";
        all.push_back(json{{"ociVersion", st ? st->value("ociVersion", "1.0.2") : "1.0.2"},
                       {"id", id},
                       {"pid", st && status != "stopped" ? st->value("pid", 0) : 0},
                       {"status", status},
                       {"bundle", record.value("bundle", "")},
                       {"rootfs", ""},
                       {"created", record.value("created", std::string())},
                       {"owner", ""}});
    }
    if (quiet) {
        for (const auto& c : all) std::printf("%s\n", c["id"].get<std::string>().c_str());
    } else if (format == "json") {
        std::printf("%s\n", all.empty() ? "null" : all.dump().c_str());
    } else {
        std::printf("%-12s %-8s %-10s %-40s %-31s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
        for (const auto& c : all)
            std::printf("%-12s %-8lld %-10s %-40s %-31s %s\n", c["id"].get<std::string>().c_str(), static_cast<long long>(c["pid"].get<int64_t>()),
                        c["status"].get<std::string>().c_str(), c["bundle"].get<std::string>().c_str(), c["created"].get<std::string>().c_str(), "root");
    }
    return 0;
}

int Front::ps(const std::string& id, const std::string& format) {
    auto st = known_state(id);
    if (!st) return log_error(st.error().message);
    if (st->value("status", "") == "stopped") return log_error("container not running");
    const auto members = sys::Cgroups().members(static_cast<pid_t>(st->value("pid", 0)));
    json pids = json::array();
    for (pid_t p : members) pids.push_back(p);
    if (format == "json") {
        std::printf("%s\n", pids.dump().c_str());
        return 0;
    }
    // runc's table is ps(1)'s, for the container's processes.
    std::string list;
    for (pid_t p : members) list += (list.empty() ? "" : ",") + std::to_string(p);
    if (list.empty()) return 0;
    std::fflush(stdout);
    auto r = sys::run_capture({sys::find_program("ps"), "-f", "-p", list}, 10000);
    if (!r) return log_error(r.error().message);
    std::fputs(r->out.c_str(), stdout);
    return 0;
}

int Front::exec(const std::string& id, const ExecOptions& o) {
    auto st = known_state(id);
    if (!st) return log_error(st.error().message);
    if (st->value("status", "") != "running") return log_error("cannot exec in a stopped container");
    json process;
    if (!o.process_file.empty()) {
        auto text = o.process_file == "-" ? std::optional<std::string>(std::string(std::istreambuf_iterator<char>(std::cin), {}))
                                          : std::optional<std::string>(text_of(o.process_file));
        process = json::parse(*text, nullptr, false);
        if (!process.is_object()) return log_error("--process " + o.process_file + ": not a JSON process");
    } else {
        if (o.args.empty()) return log_error("exec: no command given");
        // As runc: the container's own process settings, with these over them.
        auto config = json::parse(text_of(fs::path(st->value("bundle", "")) / "config.json"), nullptr, false);
        process = config.is_object() ? config.value("process", json::object()) : json::object();
        process["args"] = o.args;
        process["terminal"] = o.tty;
        if (!o.cwd.empty()) process["cwd"] = o.cwd;
        for (const auto& e : o.env) process["env"].push_back(e);
        if (!o.user.empty()) {
            auto colon = o.user.find(':');
            process["user"]["uid"] = std::stoll(o.user.substr(0, colon));
            process["user"]["gid"] = colon == std::string::npos ? 0 : std::stoll(o.user.substr(colon + 1));
        }
    }
    // Detached, in a held container: the engine waits for the pid it is
    // given, which must end as the process does; a container-oci of its
    // own waits in the foreground and is that pid.
    if (holds_containers_ && o.detach) return exec_waited_by_child(id, o, process);
    const std::string exec_id = random_exec_id();
    json req = {{"id", id}, {"exec_id", exec_id}, {"process", process}};
    req.update(kOurStdio);
    // A held container's exec is made by its monitor, which opens our
    // stdio through our pid (pipes, files and terminals; not sockets).
    if (holds_containers_) {
        const std::string fds = "/proc/" + std::to_string(::getpid()) + "/fd/";
        req.update({{"stdin", fds + "0"}, {"stdout", fds + "1"}, {"stderr", fds + "2"}});
    }
    if (!o.console_socket.empty()) {
        std::error_code ec;
        req["console_socket"] = fs::absolute(o.console_socket, ec).string();
    }
    auto started = call(rt_->exec, req, "exec");
    if (!started) return log_error(started.error().message);
    // Started for a detached exec's parent (exec_waited_by_child): it may go.
    if (const char* sync = std::getenv(kExecSyncEnv)) {
        const int fd = std::atoi(sync);
        (void)sys::write_all_nosignal(fd, "started");
        ::close(fd);
        ::unsetenv(kExecSyncEnv);
    }
    if (int rc = write_pid_file(o.pid_file, started->value("pid", int64_t{0})); rc != 0) return rc;
    if (o.detach) return 0;
    auto waited = call(rt_->wait, {{"id", id}, {"exec_id", exec_id}}, "wait");
    if (!waited) return log_error(waited.error().message);
    return static_cast<int>(waited->value("exit_code", 255));
}

int Front::exec_waited_by_child(const std::string& id, const ExecOptions& o, const json& process) {
    // The process as built here, in a file of ours: the engine's may be
    // gone by the time the child reads it.
    const fs::path file = fs::path(g_.root) / "monitors" / (id + "." + random_exec_id() + ".process.json");
    if (auto st = sys::write_file_atomic(file, process.dump(), 0600); !st) return log_error(st.error().message);
    auto sync = sys::make_pipe(O_CLOEXEC);
    if (!sync) return log_error(sync.error().message);
    std::vector<std::string> argv = self_argv({"exec", "--process", file.string()});
    if (!o.console_socket.empty()) argv.insert(argv.end(), {"--console-socket", o.console_socket});
    argv.push_back(id);
    sys::SpawnOptions so;
    so.stdin_fd = 0;
    so.stdout_fd = 1;
    so.stderr_fd = 2;
    so.pass_fds = {{sync->write.get(), 3}};
    so.env = {std::string(kExecSyncEnv) + "=3"};
    auto pid = sys::spawn(argv, so);
    std::error_code ec;
    if (!pid) {
        fs::remove(file, ec);
        return log_error(pid.error().message);
    }
    sync->write.reset();
    char buf[16];
    ssize_t n;
    do n = ::read(sync->read.get(), buf, sizeof buf); while (n < 0 && errno == EINTR);
    fs::remove(file, ec);
    if (n <= 0) {
        // It said why on stderr and in the log; its status is ours.
        int status = 0;
        ::waitpid(*pid, &status, 0);
        return WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : 1;
    }
    return write_pid_file(o.pid_file, *pid);
}

int Front::pause(const std::string& id, bool resume) {
    auto st = known_state(id);
    if (!st) return log_error(st.error().message);
    const std::string status = st->value("status", "");
    if (!resume && status != "running") return log_error("container not running");
    if (resume && status != "paused") return log_error("container not paused");
    auto done = call(resume ? rt_->resume : rt_->pause, {{"id", id}}, resume ? "resume" : "pause");
    return done ? 0 : log_error(done.error().message);
}

int Front::update(const std::string& id, const std::string& resources_file) {
    auto st = known_state(id);
    if (!st) return log_error(st.error().message);
    if (resources_file.empty()) return log_error("update: give the new limits with --resources FILE (or - for stdin)");
    auto text = resources_file == "-" ? std::string(std::istreambuf_iterator<char>(std::cin), {}) : text_of(resources_file);
    auto resources = json::parse(text, nullptr, false);
    if (!resources.is_object()) return log_error("--resources " + resources_file + ": not a JSON object of linux.resources");
    auto done = call(rt_->update, {{"id", id}, {"resources", resources}}, "update");
    return done ? 0 : log_error(done.error().message);
}

int Front::events(const std::string& id, bool stats_once, int interval_s) {
    for (;;) {
        auto st = known_state(id);
        if (!st) return log_error(st.error().message);
        if (st->value("status", "") == "stopped") return stats_once ? log_error("container not running") : 0;
        auto stats = call(rt_->stats, {{"id", id}}, "stats");
        if (!stats) return log_error(stats.error().message);
        const json event = {{"type", "stats"}, {"id", id}, {"data", *stats}};
        std::printf("%s\n", event.dump().c_str());
        std::fflush(stdout);
        if (stats_once) return 0;
        std::this_thread::sleep_for(std::chrono::seconds(std::max(1, interval_s)));
    }
}

}  // namespace ctr::oci
