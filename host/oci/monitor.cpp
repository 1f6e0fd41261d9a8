#include "oci/monitor.hpp"

#include <ctr/pluginhost/call.hpp>
#include <ctr/pluginhost/remote_ops.hpp>
#include <ctr/pluginhost/wire.hpp>
#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/io.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace ctr::oci {

namespace fs = std::filesystem;
using nlohmann::json;
namespace wire = pluginhost::wire;

namespace {

// The signals an engine sends to a container's pid, passed on to the
// container; the rest keep their default.
sigset_t forwarded_signals() {
    sigset_t set;
    ::sigemptyset(&set);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT, SIGWINCH}) ::sigaddset(&set, s);
    return set;
}

// An address for `dir/name` that fits sockaddr_un whatever the length of
// dir (an engine's root) and name (a 64-character id): through the open
// directory, /proc/self/fd/N/name.
struct SocketAddress {
    sys::UniqueFd dir;
    sockaddr_un addr{};
};

Result<SocketAddress> address_of(const MonitorPaths& p) {
    SocketAddress a;
    a.dir.reset(::open(p.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!a.dir.valid()) return make_error(CTR_E_UNAVAILABLE, "open " + p.dir.string() + ": " + std::strerror(errno));
    const std::string path = "/proc/self/fd/" + std::to_string(a.dir.get()) + "/" + p.id;
    if (path.size() >= sizeof a.addr.sun_path) return make_error(CTR_E_INVALID_ARGUMENT, "container id too long for a socket: " + p.id);
    a.addr.sun_family = AF_UNIX;
    std::memcpy(a.addr.sun_path, path.c_str(), path.size());
    return a;
}

std::string result_frame(int32_t status, int32_t detail, const std::string& message, const json& result) {
    return wire::result_payload(status, detail, message, result.is_null() ? "" : result.dump());
}

class Monitor {
public:
    Monitor(const ctr_runtime_v1& rt, ctr_plugin* inst, MonitorPaths paths) : rt_(rt), inst_(inst), paths_(std::move(paths)) {}

    // One connection, one call: the frame names the operation.
    void serve(sys::UniqueFd conn) {
        wire::Frame f;
        // A caller says what it wants at once (container-oci writes the
        // frame as it connects); one that does not is dropped.
        if (wire::read_frame(conn.get(), wire::Clock::now() + std::chrono::seconds(30), &f) != wire::ReadStatus::ok || f.type != wire::kCall) return;
        const auto nl = f.payload.find('\n');
        const std::string op = f.payload.substr(0, nl);
        json req = nl == std::string::npos ? json() : json::parse(f.payload.substr(nl + 1), nullptr, false);
        ctr_op fn = slot(op);
        if (!fn || !req.is_object()) {
            (void)wire::write_frame(conn.get(), wire::kResult, result_frame(CTR_E_UNIMPLEMENTED, 0, op + ": no such call here", json()));
            return;
        }
        req["id"] = paths_.id;  // this monitor's container, whatever was asked
        if (op == "delete") leave_cgroups();
        auto r = pluginhost::invoke(fn, inst_, req, op.c_str());
        if (!r && op == "delete") follow_into_cgroups(container_pid_);
        if (r && op == "state") (*r)["pid"] = ::getpid();  // the engine's pid of the container is ours
        if (r && op == "start") watch_exit();
        const std::string answer = r ? result_frame(CTR_OK, 0, "", *r) : result_frame(r.error().status, r.error().detail_code, r.error().message, json());
        (void)wire::write_frame(conn.get(), wire::kResult, answer);
        conn.reset();
        // Deleted: as runc's init at a delete, killed (the plugin has taken
        // the container down; nothing is left to wait for).
        if (r && op == "delete") end_killed();
    }

    // To the engine we are the container's process, so we live in its
    // cgroups (the spec's cgroupsPath, where the plugin put the VM): what
    // the engine counts, freezes or kills there includes us, as it includes
    // runc's init. Hierarchies where the container is at the root are left
    // alone.
    void follow_into_cgroups(pid_t container) {
        container_pid_ = container;
        const sys::Cgroups cg;
        std::vector<sys::Cgroups::Membership> theirs;
        for (const auto& m : cg.of(container))
            if (!m.hierarchy_root) theirs.push_back(m);
        if (theirs.empty()) return;
        if (home_.empty())
            for (const auto& m : cg.of(::getpid()))
                for (const auto& t : theirs)
                    if (t.controllers == m.controllers) home_.push_back(m);
        if (auto st = cg.enter(::getpid(), theirs); !st) spdlog::warn("monitor of {}: {}", paths_.id, st.error().message);
    }

    // Back where we came from before the plugin removes the cgroups, which
    // it cannot while a process is in them.
    void leave_cgroups() {
        if (!home_.empty()) (void)sys::Cgroups().enter(::getpid(), home_);
    }

    // Signals sent to us (the container's pid to the engine) reach the container.
    void forward_signals(const sigset_t& set) {
        std::thread([this, set] {
            for (;;) {
                int sig = ::sigwaitinfo(&set, nullptr);
                if (sig < 0) continue;
                (void)pluginhost::invoke(rt_.kill, inst_, {{"id", paths_.id}, {"signal", sig}}, "kill");
            }
        }).detach();
    }

private:
    // Any runtime slot but create (this monitor's own, done once).
    ctr_op slot(const std::string& op) const {
        const pluginhost::OpSlot* s = op == "create" ? nullptr : pluginhost::find_op_slot(CTR_KIND_RUNTIME, op);
        return s ? reinterpret_cast<ctr_op>(pluginhost::read_slot(&rt_, *s)) : nullptr;
    }

    // Once started: the container's end is ours. Its status is recorded for
    // the calls that come after us, the plugin takes it down, and we end
    // as it did.
    void watch_exit() {
        std::call_once(watching_, [this] {
            std::thread([this] {
                auto waited = pluginhost::invoke(rt_.wait, inst_, {{"id", paths_.id}}, "wait");
                json status = waited ? *waited : json{{"exit_code", 255}};
                (void)sys::write_file_atomic(paths_.exit, status.dump(), 0600, sys::Durability::process_crash);
                std::lock_guard lock(ending_);
                leave_cgroups();
                (void)pluginhost::invoke(rt_.delete_container, inst_, {{"id", paths_.id}, {"force", true}}, "delete");
                unlink_socket();
                const int sig = status.value("signal", 0);
                if (sig > 0) die_of(sig);
                ::_exit(status.value("exit_code", 255) & 0xff);
            }).detach();
        });
    }

    void end_killed() {
        std::lock_guard lock(ending_);
        unlink_socket();
        die_of(SIGKILL);
    }

    void unlink_socket() {
        if (auto a = address_of(paths_)) ::unlink(a->addr.sun_path);
    }

    [[noreturn]] static void die_of(int sig) {
        ::signal(sig, SIG_DFL);
        sigset_t one;
        ::sigemptyset(&one);
        ::sigaddset(&one, sig);
        ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
        // To this thread: the forwarding thread waits for the same signals
        // sent to the process, and would take it.
        if (sig == SIGKILL) ::kill(::getpid(), sig);
        else ::raise(sig);
        ::_exit(128 + sig);
    }

    const ctr_runtime_v1& rt_;
    ctr_plugin* inst_;
    MonitorPaths paths_;
    pid_t container_pid_ = 0;
    std::vector<sys::Cgroups::Membership> home_;  // ours before we followed the container
    std::once_flag watching_;
    std::mutex ending_;
};

void report(int fd, const json& j) {
    (void)sys::write_all_nosignal(fd, j.dump());
    ::close(fd);
}

}  // namespace

int run_monitor(const ctr_runtime_v1& rt, ctr_plugin* inst, const MonitorPaths& paths, const json& create_req, int sync_fd) {
    // Blocked before any thread is made, so that every thread has them
    // blocked and only the forwarding thread takes them.
    const sigset_t forwarded = forwarded_signals();
    ::pthread_sigmask(SIG_BLOCK, &forwarded, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    auto fail = [&](const Error& e) {
        report(sync_fd, {{"ok", false}, {"status", e.status}, {"message", e.message}});
        return 1;
    };
    if (auto st = sys::make_dirs(paths.dir, 0700); !st) return fail(st.error());
    auto addr = address_of(paths);
    if (!addr) return fail(addr.error());
    sys::UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ::unlink(addr->addr.sun_path);
    if (!listener.valid() || ::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr->addr), sizeof addr->addr) != 0 ||
        ::listen(listener.get(), 16) != 0)
        return fail(make_error(CTR_E_INTERNAL, "listen on " + (paths.dir / paths.id).string() + ": " + std::strerror(errno)));
    auto made = pluginhost::invoke(rt.create, inst, create_req, "create");
    if (!made) {
        ::unlink(addr->addr.sun_path);
        return fail(made.error());
    }
    Monitor monitor(rt, inst, paths);
    if (made->value("pid", 0) > 0) monitor.follow_into_cgroups(made->value("pid", 0));
    monitor.forward_signals(forwarded);
    json ok = {{"ok", true}, {"pid", ::getpid()}};
    if (made->contains("warnings")) ok["warnings"] = (*made)["warnings"];
    report(sync_fd, ok);
    constexpr int kMaxCalls = 64;
    std::atomic<int> busy{0};
    for (;;) {
        sys::UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn.valid()) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        // A thread per call (a wait or a terminal exec lasts as long as what
        // it waits for), at most kMaxCalls at once: past that a caller is
        // told to try again, and the monitor's memory stays bounded.
        if (busy.load() >= kMaxCalls) {
            (void)wire::write_frame(conn.get(), wire::kResult,
                                    result_frame(CTR_E_RESOURCE_EXHAUSTED, 0,
                                                 "the monitor of container " + paths.id + " is serving " + std::to_string(kMaxCalls) +
                                                     " calls already; try again",
                                                 json()));
            continue;
        }
        ++busy;
        std::thread([&monitor, &busy, c = std::move(conn)]() mutable {
            monitor.serve(std::move(c));
            --busy;
        }).detach();
    }
}

Result<json> call_monitor(const MonitorPaths& paths, const std::string& op, const json& req) {
    auto addr = address_of(paths);
    if (!addr) return make_error(CTR_E_UNAVAILABLE, "no monitor for \"" + paths.id + "\"");
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid() || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr->addr), sizeof addr->addr) != 0)
        return make_error(CTR_E_UNAVAILABLE, "no monitor for \"" + paths.id + "\"");
    if (!wire::write_frame(fd.get(), wire::kCall, op + "\n" + req.dump()))
        return make_error(CTR_E_UNAVAILABLE, "the monitor of \"" + paths.id + "\" went away");
    wire::Frame f;
    if (wire::read_frame(fd.get(), wire::Clock::time_point::max(), &f) != wire::ReadStatus::ok || f.type != wire::kResult) {
        // A delete's answer may be cut short by the monitor's own end; any
        // other call's means it died under the call.
        if (op == "delete") return json();
        return make_error(CTR_E_UNAVAILABLE, "the monitor of \"" + paths.id + "\" went away during " + op);
    }
    const auto nl = f.payload.find('\n');
    const json head = json::parse(f.payload.substr(0, nl), nullptr, false);
    const std::string body = nl == std::string::npos ? "" : f.payload.substr(nl + 1);
    const int32_t status = head.is_object() ? head.value("status", static_cast<int32_t>(CTR_E_INTERNAL)) : CTR_E_INTERNAL;
    if (status != CTR_OK) {
        return Error{status, head.is_object() ? head.value("message", "") : "bad answer", head.is_object() ? head.value("detail", 0) : 0};
    }
    if (body.empty()) return json();
    return json::parse(body, nullptr, false);
}

}  // namespace ctr::oci
