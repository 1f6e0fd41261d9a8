// container-shim: one small process per container. It loads the runtime
// plugin the container was created with, creates and starts the container,
// holds its stdio, waits for it and records its exit.
//
// Foreground (no --state-dir): stdio is the shim's own, and the shim exits
// with the container's exit code.
//
// Detached (--state-dir DIR --sync-fd N, as the daemon starts it, in a
// session of its own so that it outlives the daemon): the container writes
// DIR/stdout.log and DIR/stderr.log; once it runs, the shim writes
// {"ok":true,"pid":P} (or {"ok":false,"message","code"}) to fd N; when it
// exits, DIR/exit.json gets {"exit_code","signal","finished_at"}. The logs
// keep at most about BYTES * N bytes each (sys/log_bound.h).
//
//   container-shim --runtime NAME --id ID --bundle DIR [--root DIR] [-i] [-t]
//                  [--state-dir DIR --sync-fd N] [--attach-socket PATH [--wait-attach]]
//                  [--log-max-size BYTES --log-max-file N]
//   container-shim --standby NAME ROOT FD
//
// Standby (apiserver/shim_standby.hpp): started ahead of need, it loads the
// plugin NAME, then reads the arguments of its container (and where its own
// output goes) from FD, and goes on as if started with them.
//
// With -i or -t (detached), clients attach through --attach-socket (see
// shim/attach_server.hpp): stdin comes from them through a pipe, and with -t
// the container gets a terminal whose output goes to them and to stdout.log.
// --wait-attach: report once the container is created, and start its
// process when the first client has come (or after 30 s), so that an
// attached `run` sees everything from the first byte.
//
// Exec mode (--exec-id E --process-file F): runs another process in the
// running container, with the shim's stdio, and exits with its exit code.
//
// Stats mode (--stats): prints the runtime's stats of the running container
// as json (the daemon's `container stats` asks this way: a VM's numbers are
// its runtime's to know).
//
// Call mode (--call state|pause|resume|update|processes [--request JSON]): one
// runtime operation on the container; prints {"ok":true,"result":...} or
// {"ok":false,"status":N,"message":"...","detail":D} (the daemon's pause,
// unpause, update and top, and its look at a container after a crash: the
// runtime plugin lives in shims, not in the daemon).
#include <ctr/base/log.hpp>
#include "api/exit_codes.hpp"
#include "shim/attach_server.hpp"
#include "shim/log_watcher.hpp"
#include <ctr/base/paths.hpp>
#include <ctr/pluginhost/call.hpp>
#include <ctr/pluginhost/host_env.hpp>
#include <ctr/pluginhost/registry.hpp>
#include <ctr/sys/console.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/io.hpp>
#include <ctr/sys/process.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fcntl.h>
#include <malloc.h>
#include <optional>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>

namespace {

using ctr::api::kExitEngine;

// What the daemon hears once the container runs: its pid, and any warning
// the runtime had for the user (e.g. that it emulates a CPU).
nlohmann::json started_report(const nlohmann::json& created) {
    nlohmann::json r = {{"ok", true}, {"pid", created.value("pid", 0)}};
    if (created.contains("warnings") && created["warnings"].is_array()) r["warnings"] = created["warnings"];
    return r;
}

int fail(const std::string& message, int code = kExitEngine) {
    std::fprintf(stderr, "container-shim: %s\n", message.c_str());
    return code;
}

void report(int fd, const nlohmann::json& j) {
    if (fd < 0) return;
    std::string s = j.dump();
    // The daemon may be gone (killed): then there is nobody to tell, and
    // its closed pipe must not end us with a SIGPIPE.
    (void)ctr::sys::write_all_nosignal(fd, s);
    ::close(fd);
}

// The parent of a process; -1 when it is gone.
pid_t parent_of(pid_t pid) {
    auto s = ctr::sys::read_proc_stat(pid);
    return s ? s->ppid : -1;
}

int exit_code_of(const ctr::Error& e) { return ctr::api::process_exit_code(e.status); }

// Exec mode with clients (exec -i/-t): listens on `socket`, tells the daemon
// on `sync_fd`, runs the process once the first client is here, serves it
// until the process ends and writes {"exit_code"} to `exit_file`.
int exec_attached(const ctr_runtime_v1& rt, ctr_plugin* inst, const std::string& id, const std::string& exec_id,
                  nlohmann::json process, const std::string& socket, bool tty, bool interactive, int sync_fd,
                  const std::string& exit_file) {
    using ctr::sys::UniqueFd;
    auto record = [&](int code) {
        (void)ctr::sys::write_file_atomic(exit_file, nlohmann::json{{"exit_code", code}}.dump(), 0600, ctr::sys::Durability::process_crash);
        ::unlink(socket.c_str());
        return 0;
    };
    auto listener = ctr::shim::listen_unix(socket);
    if (!listener) {
        report(sync_fd, {{"ok", false}, {"message", listener.error().message}, {"code", listener.error().status}});
        return fail(listener.error().message);
    }
    UniqueFd console, stdin_read, stdin_write, out_read, out_write, err_read, err_write;
    std::string console_path = socket + ".tty";
    nlohmann::json req = {{"id", id}, {"exec_id", exec_id}};
    auto pipe = [](UniqueFd& r, UniqueFd& w) {
        auto p = ctr::sys::make_pipe();
        if (!p) return false;
        r = std::move(p->read);
        w = std::move(p->write);
        return true;
    };
    if (tty) {
        auto l = ctr::shim::listen_unix(console_path);
        if (!l) return fail(l.error().message);
        console = std::move(*l);
        process["terminal"] = true;
        req["console_socket"] = console_path;
    } else {
        if (!pipe(out_read, out_write) || !pipe(err_read, err_write)) return fail("pipe failed");
        req["stdout"] = "/proc/self/fd/" + std::to_string(out_write.get());
        req["stderr"] = "/proc/self/fd/" + std::to_string(err_write.get());
        if (interactive) {
            if (!pipe(stdin_read, stdin_write)) return fail("pipe failed");
            req["stdin"] = "/proc/self/fd/" + std::to_string(stdin_read.get());
        }
    }
    req["process"] = process;
    report(sync_fd, {{"ok", true}});
    ctr::shim::AttachServer server(std::move(*listener), {});
    server.accept_first(30000);
    // An exec's process starts at once, before we hold its terminal: the
    // runtime sizes it from the process spec, so that it is right from the start.
    if (tty && server.rows() > 0) req["process"]["consoleSize"] = {{"height", server.rows()}, {"width", server.cols()}};
    auto started = ctr::pluginhost::invoke(rt.exec, inst, req, "exec");
    stdin_read.reset();
    out_write.reset();
    err_write.reset();
    if (!started) {
        server.send_error(started.error().message);
        return record(exit_code_of(started.error()));
    }
    UniqueFd master;
    if (console.valid()) {
        auto m = ctr::sys::receive_console(console.get(), 10000);
        ::unlink(console_path.c_str());
        if (!m) return record(kExitEngine);
        master = std::move(*m);
    }
    server.set_io({master.release(), stdin_write.release(), "", out_read.release(), err_read.release()});
    ctr::Result<nlohmann::json> waited = ctr::make_error(CTR_E_INTERNAL, "not waited");
    UniqueFd exited(::eventfd(0, EFD_CLOEXEC));
    std::thread waiter([&] {
        waited = ctr::pluginhost::invoke(rt.wait, inst, {{"id", id}, {"exec_id", exec_id}}, "wait");
        uint64_t one = 1;
        [[maybe_unused]] auto w = ::write(exited.get(), &one, sizeof one);
    });
    server.run(exited.get());
    waiter.join();
    return record(waited ? waited->value("exit_code", kExitEngine) : kExitEngine);
}

}  // namespace

namespace {

// A standby shim (`container-shim --standby RUNTIME ROOT ASSIGN_FD`), started
// by the daemon ahead of need: it loads its runtime plugin, then waits on
// ASSIGN_FD for one line, {"argv": [...], "log": PATH}, the arguments of the
// container it is to run, and goes on as if started with them. Loading and
// linking are then off the path of a start. EOF instead: not needed; exit.
struct Standby {
    std::string runtime, root;
    std::unique_ptr<ctr::pluginhost::Registry> registry;
    ctr::pluginhost::LoadedPlugin* plugin = nullptr;
    std::vector<std::string> args;  // argv as assigned, argv[0] included
};

std::optional<Standby> wait_for_assignment(int argc, char** argv) {
    if (argc != 5 || std::string(argv[1]) != "--standby") return std::nullopt;
    Standby s;
    s.runtime = argv[2];
    s.root = argv[3];
    int fd = std::atoi(argv[4]);
    ctr::Paths paths(s.root);
    auto options = ctr::pluginhost::default_registry_options(paths);
    options.only_name = s.runtime;
    s.registry = ctr::pluginhost::Registry::scan(options);
    if (auto p = s.registry->get(s.runtime, CTR_KIND_RUNTIME); p) s.plugin = *p;  // else loaded again, with its error
    std::string line;
    char buf[4096];
    for (ssize_t n; line.find('\n') == std::string::npos && (n = ::read(fd, buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        line.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("argv") || !j["argv"].is_array()) std::exit(0);  // not needed after all
    int log = ::open(j.value("log", "/dev/null").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log >= 0) {
        ::dup2(log, STDOUT_FILENO);
        ::dup2(log, STDERR_FILENO);
        ::close(log);
    }
    for (const auto& a : j["argv"])
        if (a.is_string()) s.args.push_back(a.get<std::string>());
    return s;
}

}  // namespace

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ctr::sys::UniqueFd;
using ctr::pluginhost::invoke;

// The command line (after a standby's assignment, if any).
struct Args {
    std::string runtime, id, bundle, root, state_dir, exec_id, process_file, attach_socket, exit_file;
    int sync_fd = -1;
    bool interactive = false, tty = false, wait_attach = false, debug = false, stats = false;
    std::string call, request;  // --call OP --request JSON
    int exit_code = -1, exit_signal = 0;
    ctr_log_limit log_limit{0, 1};

    bool detached() const { return !state_dir.empty(); }
    bool attachable() const { return detached() && !attach_socket.empty() && (interactive || tty); }
    fs::path state(const char* name) const { return fs::path(state_dir) / name; }
};

// Parses into `a`; an exit status when the shim ends at once (help, a usage error).
std::optional<int> parse_args(int argc, char** argv, Args& a) {
    CLI::App app{"container-shim: runs one container through a runtime plugin", "container-shim"};
    app.add_option("--runtime", a.runtime, "runtime plugin name")->required();
    app.add_option("--id", a.id, "container id")->required();
    // Not checked here: the shim that finishes a container must delete the
    // runtime's state even when `rm` has already taken the bundle away.
    app.add_option("--bundle", a.bundle, "OCI bundle directory")->required();
    app.add_option("--root", a.root, "root of all state");
    app.add_option("--state-dir", a.state_dir, "detached: where logs and the exit record go");
    app.add_option("--sync-fd", a.sync_fd, "detached: fd that gets the start result");
    app.add_option("--exec-id", a.exec_id, "exec mode: run the process of --process-file in the running container");
    app.add_option("--process-file", a.process_file, "exec mode: an OCI process object (JSON)");
    app.add_flag("-i,--interactive", a.interactive, "connect stdin");
    app.add_flag("-t,--tty", a.tty, "give the container a terminal");
    app.add_option("--attach-socket", a.attach_socket, "detached: where clients attach (with -i or -t)");
    app.add_flag("--wait-attach", a.wait_attach, "detached: start the process once the first client attached");
    app.add_option("--log-max-size", a.log_limit.max_size, "detached: each log keeps about this many bytes times --log-max-file (0: unbounded)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--log-max-file", a.log_limit.max_file, "detached: see --log-max-size")->check(CLI::PositiveNumber);
    app.add_option("--exit-file", a.exit_file, "exec with --attach-socket: where its exit code goes");
    app.add_flag("--debug", a.debug, "log debug messages");
    app.add_flag("--stats", a.stats, "print the runtime's stats of the running container (json) and exit");
    app.add_option("--call", a.call, "run one runtime operation on the container (state, pause, resume, update, processes), print its answer, exit")
        ->check(CLI::IsMember({"state", "pause", "resume", "update", "processes"}));
    app.add_option("--request", a.request, "with --call: more request fields, a JSON object");
    app.add_option("--exit-code", a.exit_code, "finish: the container exited with this code (from container-shim-reaper)");
    app.add_option("--exit-signal", a.exit_signal, "finish: the signal that ended it");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : kExitEngine;
    }
    return std::nullopt;
}

// The runtime plugin's table and instance.
struct Runtime {
    const ctr_runtime_v1& rt;
    ctr_plugin* inst;
};

// Tells the daemon (on --sync-fd) and the log why the container did not
// start. `process`: the error is about running the container's process,
// where not found is 127 and permission denied 126; otherwise it is ours.
int tell_failure(const Args& a, const ctr::Error& e, bool process) {
    report(a.sync_fd, {{"ok", false}, {"message", e.message}, {"code", process ? e.status : int32_t{CTR_E_UNAVAILABLE}}});
    return fail(e.message, process ? exit_code_of(e) : kExitEngine);
}

int record_exit(const Args& a, int code, int signal) {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    json exit = {{"exit_code", code}, {"signal", signal}, {"finished_at", now}};
    if (auto st = ctr::sys::write_file_atomic(a.state("exit.json"), exit.dump(), 0644, ctr::sys::Durability::process_crash); !st)
        return fail(st.error().message);
    return 0;
}

// Finish: the reaper saw the container end and recorded it (the daemon
// waits for nothing more). Delete it; record the exit if it could not.
// --call: the answer goes to stdout as JSON, success or not; a 1.0 runtime
// (no such slot) answers unimplemented, naming the minor that added it.
int call_mode(const Runtime& r, const Args& a) {
    nlohmann::json req = a.request.empty() ? nlohmann::json::object() : nlohmann::json::parse(a.request, nullptr, false);
    if (!req.is_object()) return fail("--request is not a JSON object");
    req["id"] = a.id;
    struct Slot {
        const char* name;
        ctr_op op;
        const char* since;
    };
    const Slot slots[] = {{"state", r.rt.state, "1.0"}, {"pause", r.rt.pause, "1.2"}, {"resume", r.rt.resume, "1.2"}, {"update", r.rt.update, "1.2"}, {"processes", r.rt.processes, "1.4"}};
    const Slot* slot = std::find_if(std::begin(slots), std::end(slots), [&](const Slot& s) { return a.call == s.name; });
    auto res = slot->op ? invoke(slot->op, r.inst, req, slot->name)
                        : ctr::Result<nlohmann::json>(ctr::make_error(
                              CTR_E_UNIMPLEMENTED, "runtime " + a.runtime + " predates ABI " + slot->since + ": it has no " + a.call));
    nlohmann::json out = res ? nlohmann::json{{"ok", true}, {"result", *res}}
                             : nlohmann::json{{"ok", false}, {"status", res.error().status}, {"message", res.error().message},
                                              {"detail", res.error().detail_code}};
    std::printf("%s\n", out.dump().c_str());
    return res ? 0 : 1;
}

int finish(const Runtime& r, const Args& a) {
    (void)invoke(r.rt.delete_container, r.inst, {{"id", a.id}, {"force", true}}, "delete");
    std::error_code ec;
    if (fs::exists(a.state("exit.json"), ec)) return 0;
    if (!fs::exists(a.state_dir, ec)) return 0;  // removed meanwhile: nobody to tell
    return record_exit(a, a.exit_code, a.exit_signal);
}

// Exec mode: another process in a running container, its stdio ours, its
// exit code ours too.
int exec_mode(const Runtime& r, const Args& a) {
    auto text = ctr::sys::read_file(a.process_file);
    if (!text) return fail(text.error().message);
    auto process = json::parse(*text, nullptr, false);
    if (!process.is_object()) return fail("--process-file is not a json object");
    if (!a.attach_socket.empty())
        return exec_attached(r.rt, r.inst, a.id, a.exec_id, process, a.attach_socket, a.tty, a.interactive, a.sync_fd, a.exit_file);
    json req = {{"id", a.id}, {"exec_id", a.exec_id}, {"process", process}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}};
    if (a.interactive) req["stdin"] = "/proc/self/fd/0";
    if (auto e = invoke(r.rt.exec, r.inst, req, "exec"); !e) {
        // Our stderr is the exec's, which the user reads: in the CLI's voice.
        std::fprintf(stderr, "container: %s\n", e.error().message.c_str());
        return exit_code_of(e.error());
    }
    auto waited = invoke(r.rt.wait, r.inst, {{"id", a.id}, {"exec_id", a.exec_id}}, "wait");
    if (!waited) return fail(waited.error().message);
    return waited->value("exit_code", kExitEngine);
}

// What the shim holds for the container's stdio while it is created.
struct Stdio {
    UniqueFd listener, console_listener, stdin_read, stdin_write;
    std::string console_path;
};

// The create request's stdio: the logs (detached) or ours, with the attach
// socket, the console socket (-t) or the stdin pipe (-i) that it needs.
ctr::Result<json> create_request(const Args& a, Stdio& io) {
    json create = {{"id", a.id}, {"bundle", fs::absolute(a.bundle).lexically_normal().string()}};
    if (!a.detached()) {
        // Our own stdio, named through /proc: /dev/stdout is udev's link
        // and a bare devtmpfs has none.
        create["stdout"] = "/proc/self/fd/1";
        create["stderr"] = "/proc/self/fd/2";
        if (a.interactive) create["stdin"] = "/proc/self/fd/0";
        return create;
    }
    create["stdout"] = a.state("stdout.log").string();
    create["stderr"] = a.state("stderr.log").string();
    if (!a.attachable()) return create;
    io.listener = CTR_TRY(ctr::shim::listen_unix(a.attach_socket));
    if (a.tty) {
        // The runtime hands the terminal's master to this socket.
        io.console_path = a.attach_socket + ".tty";
        io.console_listener = CTR_TRY(ctr::shim::listen_unix(io.console_path));
        create["terminal"] = true;
        create["console_socket"] = io.console_path;
    } else {
        auto pipe = CTR_TRY(ctr::sys::make_pipe());
        create["stdin"] = "/proc/self/fd/" + std::to_string(pipe.read.get());
        io.stdin_read = std::move(pipe.read);
        io.stdin_write = std::move(pipe.write);
    }
    return create;
}

// The container's process is our child and a fresh plugin can delete it:
// the small reaper waits in our place (same pid), then execs us again to
// finish. Returns only if that could not be.
void hand_over_to_reaper(const Args& a, const json& created, const ctr::shim::LogFiles& logs) {
    pid_t child = static_cast<pid_t>(created.value("pid", 0));
    if (child <= 0 || parent_of(child) != ::getpid()) return;
    auto reaper = ctr::pluginhost::helper_path("container-shim-reaper").string();
    const auto sizes = logs.sizes();
    std::vector<std::string> args = {reaper, std::to_string(child), a.state_dir, std::to_string(sizes[0]), std::to_string(sizes[1]),
                                     std::to_string(a.log_limit.max_size), std::to_string(a.log_limit.max_file),
                                     "--", ctr::pluginhost::helper_path("container-shim").string(),
                                     "--runtime", a.runtime, "--id", a.id, "--bundle", a.bundle, "--root", a.root, "--state-dir", a.state_dir};
    std::vector<char*> argv;
    for (auto& x : args) argv.push_back(x.data());
    argv.push_back(nullptr);
    ::execv(reaper.c_str(), argv.data());
    spdlog::warn("exec {}: {}; the shim waits itself", reaper, std::strerror(errno));
}

// Waits for the container's exit; with clients, serves them on this thread
// while another waits.
ctr::Result<json> wait_for_exit(const Runtime& r, const Args& a, std::optional<ctr::shim::AttachServer>& server) {
    if (!server) return invoke(r.rt.wait, r.inst, {{"id", a.id}}, "wait");
    ctr::Result<json> waited = ctr::make_error(CTR_E_INTERNAL, "not waited");
    UniqueFd exited(::eventfd(0, EFD_CLOEXEC));
    std::thread waiter([&] {
        waited = invoke(r.rt.wait, r.inst, {{"id", a.id}}, "wait");
        uint64_t one = 1;
        [[maybe_unused]] auto w = ::write(exited.get(), &one, sizeof one);
    });
    server->run(exited.get());
    waiter.join();
    ::unlink(a.attach_socket.c_str());
    return waited;
}

// A start that failed after the daemon was told the container runs
// (--wait-attach): the process ends as Docker's would, its error in its log.
int late_start_failure(const Args& a, const ctr::Error& e) {
    if (std::FILE* err = std::fopen(a.state("stderr.log").c_str(), "a")) {
        std::fprintf(err, "container: %s\n", e.message.c_str());
        std::fclose(err);
    }
    return record_exit(a, exit_code_of(e), 0);
}

// Create, start, then wait (or hand the wait to the reaper) and record the exit.
int run_container(const Runtime& r, const Args& a) {
    Stdio io;
    auto create = create_request(a, io);
    if (!create) return tell_failure(a, create.error(), false);
    auto created = invoke(r.rt.create, r.inst, *create, "create");
    if (!created) return tell_failure(a, created.error(), true);
    io.stdin_read.reset();  // the container has its own copy
    // From here the container exists: whatever happens, delete it before exiting.
    auto remove = [&] { (void)invoke(r.rt.delete_container, r.inst, {{"id", a.id}, {"force", true}}, "delete"); };
    UniqueFd master;
    if (io.console_listener.valid()) {
        auto m = ctr::sys::receive_console(io.console_listener.get(), 10000);
        io.console_listener.reset();
        ::unlink(io.console_path.c_str());
        if (!m) {
            remove();
            return tell_failure(a, m.error(), false);
        }
        master = std::move(*m);
    }
    // When output arrives, for logs --timestamps and --since (logs work
    // without). A shim that hands over to the reaper marks what came before
    // the hand-over itself; one that waits runs a watcher thread. Either way
    // the marks start before the container's process runs.
    const bool hand_over = a.detached() && !a.attachable() && created->value("waitable_by_caller", false);
    std::optional<ctr::shim::LogFiles> logs;  // detached only: in the foreground the logs are our stdio
    if (a.detached()) logs.emplace(std::vector<fs::path>{a.state("stdout.log"), a.state("stderr.log")}, a.log_limit);
    std::unique_ptr<ctr::shim::LogWatcher> log_watcher;
    auto watch_logs = [&] {
        logs->grew();
        auto w = ctr::shim::LogWatcher::start(*logs);
        if (w) log_watcher = std::move(*w);
        else spdlog::warn("log timestamps: {}", w.error().message);
    };
    if (a.detached() && !hand_over) watch_logs();
    const bool waiting = a.attachable() && a.wait_attach;
    std::optional<ctr::shim::AttachServer> server;
    if (a.attachable())
        server.emplace(std::move(io.listener), ctr::shim::AttachIo{master.release(), io.stdin_write.release(), a.state("stdout.log").string()});
    if (waiting) {
        // Reported as running now; the process starts when its client is here.
        report(a.sync_fd, started_report(*created));
        server->accept_first(30000);
    }
    if (auto st = invoke(r.rt.start, r.inst, {{"id", a.id}}, "start"); !st) {
        remove();
        return waiting ? late_start_failure(a, st.error()) : tell_failure(a, st.error(), true);
    }
    if (!waiting) report(a.sync_fd, started_report(*created));
    if (hand_over) {
        logs->grew();  // the reaper marks from here on
        hand_over_to_reaper(a, *created, *logs);
        watch_logs();
    }
    // From here the shim only waits, once per container for as long as it
    // runs: give back the heap that loading and starting used.
    ::malloc_trim(0);
    auto waited = wait_for_exit(r, a, server);
    log_watcher.reset();  // the last output is marked before the exit is recorded
    remove();
    if (!waited) return fail(waited.error().message);
    int code = waited->value("exit_code", kExitEngine);
    return a.detached() ? record_exit(a, code, waited->value("signal", 0)) : code;
}

}  // namespace

int main(int argc, char** argv) {
    auto standby = wait_for_assignment(argc, argv);
    std::vector<char*> assigned_argv;
    if (standby) {
        for (auto& x : standby->args) assigned_argv.push_back(x.data());
        argc = static_cast<int>(assigned_argv.size());
        assigned_argv.push_back(nullptr);
        argv = assigned_argv.data();
    }
    Args a;
    if (auto rc = parse_args(argc, argv, a)) return *rc;
    ctr::log::init("container-shim", a.debug);

    using namespace ctr::pluginhost;
    ctr::Paths paths(a.root);
    auto options = default_registry_options(paths);
    options.only_name = a.runtime;  // the shim needs its one runtime plugin and nothing else
    const bool preloaded = standby && standby->plugin && standby->runtime == a.runtime && standby->root == a.root;
    auto registry = preloaded ? std::move(standby->registry) : Registry::scan(options);
    auto plugin = registry->get(a.runtime, CTR_KIND_RUNTIME);
    if (!plugin) return tell_failure(a, plugin.error(), false);
    Runtime r{*(*plugin)->runtime(), (*plugin)->instance()};

    if (a.stats) {
        // Through the runtime's ABI: its own numbers (a VM's size, not the
        // host's), for `container stats`.
        auto st = invoke(r.rt.stats, r.inst, {{"id", a.id}}, "stats");
        if (!st) return fail(st.error().message);
        std::printf("%s\n", st->dump().c_str());
        return 0;
    }
    if (!a.call.empty()) return call_mode(r, a);
    if (a.exit_code >= 0 && a.detached()) return finish(r, a);
    if (!a.exec_id.empty()) return exec_mode(r, a);
    return run_container(r, a);
}
