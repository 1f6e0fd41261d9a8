#include "apiserver/shim_standby.hpp"

#include <ctr/pluginhost/host_env.hpp>
#include <ctr/sys/io.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/spawn.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ctr::apiserver {

ShimStandby::ShimStandby(Paths paths, std::string runtime) : paths_(std::move(paths)), runtime_(std::move(runtime)) {
    worker_ = std::thread([this] { run(); });
}

ShimStandby::~ShimStandby() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
    if (ready_) {
        ready_->assign.reset();  // EOF: not needed
        ::waitpid(ready_->pid, nullptr, 0);
    }
}

std::optional<ShimStandby::Waiting> ShimStandby::spawn_one() const {
    auto sync = sys::make_pipe();
    // A socket, not a pipe, for the assignment: a send to a shim that died
    // waiting fails with EPIPE (MSG_NOSIGNAL) instead of a SIGPIPE here.
    auto assign = sys::make_socketpair();
    if (!sync || !assign) return std::nullopt;
    Waiting w;
    w.sync = std::move(sync->read);
    w.assign = std::move(assign->write);
    sys::UniqueFd sync_w = std::move(sync->write), assign_r = std::move(assign->read);
    sys::SpawnOptions so;
    so.pass_fds = {{sync_w.get(), 3}, {assign_r.get(), 4}};
    so.new_session = true;  // as a spawned shim: it and its container outlive the daemon
    if (runtime_.empty()) return std::nullopt;
    auto shim = pluginhost::helper_path("container-shim").string();
    auto pid = sys::spawn({shim, "--standby", runtime_, paths_.root().string(), "4"}, so);
    if (!pid) {
        spdlog::warn("standby shim: {}", pid.error().message);
        return std::nullopt;
    }
    w.pid = *pid;
    return w;
}

void ShimStandby::kick() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        wanted_ = true;
    }
    cv_.notify_one();
}

void ShimStandby::run() {
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return stop_ || (wanted_ && !ready_); });
            if (stop_) return;
            wanted_ = false;
        }
        auto w = spawn_one();  // outside the lock: a take meanwhile spawns its own
        std::lock_guard<std::mutex> lock(mu_);
        if (w) ready_ = std::move(*w);
    }
}

std::optional<ShimStandby::Taken> ShimStandby::take(const std::string& runtime, const std::vector<std::string>& args,
                                                    const std::string& log) {
    if (runtime != runtime_) return std::nullopt;
    std::optional<Waiting> w;
    {
        std::lock_guard<std::mutex> lock(mu_);
        std::swap(w, ready_);
        wanted_ = true;  // the next one
    }
    cv_.notify_one();
    if (!w) return std::nullopt;
    std::string line = nlohmann::json{{"argv", args}, {"log", log}}.dump() + "\n";
    if (!sys::send_all(w->assign.get(), line)) {  // it died waiting: reap it, and spawn as usual
        ::kill(w->pid, SIGKILL);
        ::waitpid(w->pid, nullptr, 0);
        return std::nullopt;
    }
    return Taken{w->pid, std::move(w->sync)};
}

}  // namespace ctr::apiserver
