#include <ctr/pluginhost/remote.hpp>

#include <ctr/pluginhost/wire.hpp>
#include <ctr/sys/fd_passing.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>

namespace ctr::pluginhost {

namespace {

using wire::Clock;

Clock::time_point after_ms(int ms) { return Clock::now() + std::chrono::milliseconds(ms); }

Result<sys::FdPair> socket_pair() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return make_error(CTR_E_INTERNAL, std::string("socketpair: ") + std::strerror(errno));
    return sys::FdPair{sys::UniqueFd(sv[0]), sys::UniqueFd(sv[1])};
}

// Waits up to grace_ms for the process to end by itself (a crash is already
// under way when its socket reads EOF), then kills it; always reaps it.
// `killed` says whether it had to be.
sys::ExitStatus reap(pid_t pid, int grace_ms, bool* killed = nullptr) {
    sys::ExitStatus st;
    if (killed) *killed = false;
    int raw = 0;
    auto until = after_ms(grace_ms);
    pid_t r = 0;
    while ((r = ::waitpid(pid, &raw, WNOHANG)) == 0 && Clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (r == 0) {
        if (killed) *killed = true;
        ::kill(pid, SIGKILL);
        while ((r = ::waitpid(pid, &raw, 0)) < 0 && errno == EINTR) {}
    }
    if (r == pid) {
        if (WIFEXITED(raw)) st.code = WEXITSTATUS(raw);
        if (WIFSIGNALED(raw)) st.signal = WTERMSIG(raw);
    }
    return st;
}

void fill_error(ctr_error* err, int32_t status, int32_t detail, const std::string& message) {
    if (!err) return;
    err->status = status;
    err->detail_code = detail;
    if (err->message && err->message_capacity > 0)
        std::snprintf(err->message, err->message_capacity, "%s", message.c_str());
}

struct CancelWatch {
    const ctr_progress* progress;
    int fd;
    bool sent = false;
    void operator()() {
        if (sent || !progress || !progress->cancelled || !progress->cancelled(progress->ctx)) return;
        sent = wire::write_frame(fd, wire::kCancel, "");
    }
};

}  // namespace

Result<std::unique_ptr<RemotePlugin>> RemotePlugin::start(const Manifest& manifest, const HostOffer& offer,
                                                          const RemoteOptions& options) {
    CTR_TRY_STATUS(precheck(manifest, offer));
    std::unique_ptr<RemotePlugin> p(new RemotePlugin());
    p->manifest_ = manifest;
    p->offer_ = offer;
    p->options_ = options;
    std::lock_guard<std::mutex> lock(p->mu_);
    CTR_TRY_STATUS(p->spawn_locked());
    return p;
}

RemotePlugin::~RemotePlugin() {
    std::lock_guard<std::mutex> lock(mu_);
    end_locked();
}

pid_t RemotePlugin::pid() {
    std::lock_guard<std::mutex> lock(mu_);
    return pid_;
}

Status RemotePlugin::spawn_locked() {
    auto pair = CTR_TRY(socket_pair());
    sys::SpawnOptions so;
    // The plugin must not print; if it does, it lands in the log.
    if (options_.log_file.empty()) {
        so.stdout_fd = STDERR_FILENO;
        so.stderr_fd = STDERR_FILENO;
    } else {
        so.stdout_path = options_.log_file.string();
        so.stderr_path = options_.log_file.string();
    }
    so.pass_fds = {{pair.write.get(), 3}};
    so.netns = options_.netns.string();
    std::vector<std::string> argv{options_.host_exe.string(), "--manifest", manifest_.file.string(),
                                  "--state-dir", offer_.state_dir, "--host-version", offer_.host_version,
                                  "--control-fd", "3"};
    if (spdlog::get_level() <= spdlog::level::debug) argv.push_back("--debug");
    auto pid = sys::spawn(argv, so);
    if (!pid) return make_error(CTR_E_INTERNAL, "cannot start the plugin host: " + pid.error().message);
    pair.write.reset();
    pid_ = *pid;

    wire::Frame hello;
    auto st = wire::read_frame(pair.read.get(), after_ms(options_.init_timeout_ms), &hello);
    if (st != wire::ReadStatus::ok || hello.type != wire::kHello) {
        bool hung = st == wire::ReadStatus::timeout;
        if (hung) ::kill(pid_, SIGKILL);
        auto exit = reap(pid_, 1000);
        pid_ = -1;
        return make_error(CTR_E_INTERNAL, hung ? "init hung: no answer within " +
                                                      std::to_string(options_.init_timeout_ms) + " ms"
                                                : "init crashed: " + exit.describe());
    }
    auto j = nlohmann::json::parse(hello.payload, nullptr, false);
    int32_t status = j.is_object() ? j.value("status", CTR_E_INTERNAL) : CTR_E_INTERNAL;
    if (status != CTR_OK) {
        (void)reap(pid_, 2000);
        pid_ = -1;
        return make_error(static_cast<ctr_status>(status), j.is_object() ? j.value("message", "no message") : "a malformed hello");
    }
    hello_ = std::move(j);
    control_ = std::move(pair.read);
    ++generation_;
    idle_.clear();
    spdlog::debug("plugin {} runs in process {}", manifest_.name, pid_);
    return ok();
}

void RemotePlugin::end_locked() {
    idle_.clear();
    control_.reset();  // the host's cue to end
    if (pid_ > 0) (void)reap(pid_, 2000);
    pid_ = -1;
}

Result<RemotePlugin::Conn> RemotePlugin::acquire() {
    std::lock_guard<std::mutex> lock(mu_);
    if (pid_ < 0) {
        if (auto st = spawn_locked(); !st)
            return make_error(CTR_E_UNAVAILABLE, "plugin " + manifest_.name + " cannot be restarted: " + st.error().message);
    }
    if (!idle_.empty()) {
        Conn c{std::move(idle_.back()), generation_};
        idle_.pop_back();
        return c;
    }
    auto pair = CTR_TRY(socket_pair());
    if (!sys::send_fd(control_.get(), pair.write.get()))
        return Conn{sys::UniqueFd(), generation_};  // the process is gone: the call finds out and says so
    return Conn{std::move(pair.read), generation_};
}

void RemotePlugin::give_back(Conn conn) {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn.generation == generation_ && idle_.size() < 16) idle_.push_back(std::move(conn.fd));
}

std::string RemotePlugin::failed(const Conn& conn, const char* op, bool timed_out) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string what = "plugin " + manifest_.name;
    if (conn.generation != generation_ || pid_ < 0)
        return what + " failed during " + op + " (its process ended while the call ran; it has been restarted)";
    std::string how;
    if (timed_out) {
        ::kill(pid_, SIGKILL);
        how = " did not answer " + std::string(op) + " within " + std::to_string(options_.call_timeout_ms) +
              " ms; it was killed";
        (void)reap(pid_, 1000);
    } else {
        bool killed = false;
        auto exit = reap(pid_, 1000, &killed);
        how = killed        ? " broke the call protocol during " + std::string(op) + "; it was killed"
              : exit.signal ? " crashed (" + exit.describe() + ") during " + op
                            : " ended (" + exit.describe() + ") during " + op;
    }
    pid_ = -1;
    idle_.clear();
    control_.reset();
    spdlog::error("{}{}; restarting it", what, how);
    auto again = spawn_locked();
    if (!again) return what + how + "; restarting it failed: " + again.error().message;
    restarted_ = true;
    return what + how + " and was restarted";
}

// A plugin may take up its state lazily, at its first call (network-vmnet
// brings up its bridges, rules and DNS then). The daemon's first call after
// a start is a list; so is the first after a restart, made here, so that
// what the plugin serves on its own (DNS) comes back without waiting for a
// user's call. Its own failure is logged and not retried.
void RemotePlugin::after_restart() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!restarted_) return;
        restarted_ = false;
    }
    static thread_local bool warming = false;
    if (warming) return;
    warming = true;
    std::string ignored;
    ctr_sink sink{sizeof(ctr_sink), 0, &ignored, [](void* ctx, const char* data, size_t len) -> int32_t {
                      static_cast<std::string*>(ctx)->append(data, len);
                      return 0;
                  }};
    char msg[512] = {};
    ctr_error err{sizeof(ctr_error), CTR_OK, 0, sizeof msg, msg};
    if (call("list", "{}", nullptr, &sink, &err) != CTR_OK)
        spdlog::warn("plugin {}: its first list after the restart failed: {}", manifest_.name, msg);
    warming = false;
}

int32_t RemotePlugin::call(const char* op, std::string_view request, const ctr_progress* progress,
                           const ctr_sink* sink, ctr_error* err) {
    auto conn = acquire();
    if (!conn) {
        fill_error(err, conn.error().status, 0, conn.error().message);
        return conn.error().status;
    }
    std::string frame;
    frame.reserve(std::strlen(op) + 1 + request.size());
    frame.append(op).append("\n").append(request);
    if (!conn->fd.valid() || !wire::write_frame(conn->fd.get(), wire::kCall, frame)) {
        std::string why = failed(*conn, op, false);
        after_restart();
        fill_error(err, CTR_E_UNAVAILABLE, 0, why);
        return CTR_E_UNAVAILABLE;
    }
    CancelWatch watch{progress, conn->fd.get()};
    for (;;) {
        wire::Frame f;
        auto st = wire::read_frame(conn->fd.get(), after_ms(options_.call_timeout_ms), &f,
                                   progress ? std::function<void()>(std::ref(watch)) : std::function<void()>());
        if (st != wire::ReadStatus::ok) {
            bool timed_out = st == wire::ReadStatus::timeout;
            std::string why = failed(*conn, op, timed_out);
            after_restart();
            int32_t status = timed_out ? CTR_E_DEADLINE_EXCEEDED : CTR_E_UNAVAILABLE;
            fill_error(err, status, 0, why);
            return status;
        }
        if (f.type == wire::kProgress) {  // and the deadline starts again
            if (progress && progress->event) progress->event(progress->ctx, f.payload.data(), f.payload.size());
            continue;
        }
        auto nl = f.payload.find('\n');
        auto head = nlohmann::json::parse(f.payload.substr(0, nl), nullptr, false);
        if (f.type != wire::kResult || nl == std::string::npos || !head.is_object()) {
            std::string why = failed(*conn, op, false);
            after_restart();
            fill_error(err, CTR_E_INTERNAL, 0, why);
            return CTR_E_INTERNAL;
        }
        int32_t status = head.value("status", CTR_E_INTERNAL);
        std::string_view result(f.payload.data() + nl + 1, f.payload.size() - nl - 1);
        give_back(std::move(*conn));
        if (status != CTR_OK) {
            fill_error(err, status, head.value("detail", 0), head.value("message", ""));
            return status;
        }
        if (!result.empty() && sink && sink->write && sink->write(sink->ctx, result.data(), result.size()) != 0) {
            fill_error(err, CTR_E_RESOURCE_EXHAUSTED, 0, std::string(op) + ": the result is too large");
            return CTR_E_RESOURCE_EXHAUSTED;
        }
        return CTR_OK;
    }
}

}  // namespace ctr::pluginhost
