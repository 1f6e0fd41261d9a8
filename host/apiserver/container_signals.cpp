// What reaches a container's process from outside: stop (its signal, a
// grace period, then SIGKILL), kill, and rename; and the events that tell
// of each change (note).
#include "apiserver/containers.hpp"
#include "apiserver/container_parts.hpp"
#include "services/names.hpp"

#include <ctr/base/failpoint.hpp>
#include <ctr/sys/files.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <map>
#include <thread>

namespace ctr::apiserver {

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

using nlohmann::json;
using detail::alive;

void Containers::note(const store::ContainerRecord& c, const std::string& action, nlohmann::json more) const {
    // Docker's attributes: the container's labels, its name and image.
    json attributes = c.labels.is_object() ? c.labels : json::object();
    attributes["name"] = c.name;
    attributes["image"] = c.image;
    if (more.is_object()) attributes.update(more);
    d_.events.publish("container", action, c.id, attributes);
    {
        std::lock_guard<std::mutex> lock(change_mu_);
        ++changes_;
    }
    change_cv_.notify_all();
}

uint64_t Containers::change_count() const {
    std::lock_guard<std::mutex> lock(change_mu_);
    return changes_;
}

void Containers::wait_for_change(uint64_t seen, int timeout_ms) const {
    std::unique_lock<std::mutex> lock(change_mu_);
    change_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return changes_ != seen; });
}

Status Containers::rename(const std::string& key, const std::string& name) {
    CTR_TRY_STATUS(services::check_name("container", name));
    auto c = CTR_TRY(get(key));
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        CTR_TRY_STATUS(d_.store->rename_container(c.id, name));
    }
    const std::string old_name = c.name;
    c.name = name;
    note(c, "rename", {{"oldName", old_name}});
    return ok();
}

// A container the user stopped or killed stays stopped, whatever its
// --restart says. Marked under the start lock: a restart policy's start
// either sees the mark, or has started the container, which the caller then
// reads again and signals.
void Containers::mark_user_stopped(const std::string& id) {
    auto serial = start_lock(id);
    std::lock_guard<std::mutex> no_start(*serial);
    (void)sys::write_file_atomic(dir_of(id) / "user_stopped", "", 0600);
}

Status Containers::kill(const std::string& key, int signal) {
    auto c = CTR_TRY(get(key));
    CTR_TRY_STATUS(store::check_action(c.name, c.state, store::ContainerAction::kill));
    if (signal == SIGKILL || signal == SIGTERM) {
        mark_user_stopped(c.id);
        c = CTR_TRY(get(c.id));  // a restart policy's start may have come first: its process is the one to signal
    }
    if (!alive(c.pid) || ::kill(static_cast<pid_t>(*c.pid), signal) != 0)
        return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is not running");
    if (signal == SIGKILL || signal == SIGTERM) thaw_if_paused(c);  // else it would not get it until unpause
    note(c, "kill", {{"signal", std::to_string(signal)}});
    return ok();
}

std::pair<int, int> Containers::stop_defaults(const store::ContainerRecord& c) {
    const auto settings = c.settings();
    int timeout = static_cast<int>(settings.stop_timeout);
    int signal = signal_number(settings.stop_signal);
    return {timeout < 0 ? 10 : timeout, signal < 0 ? SIGTERM : signal};
}

Result<store::ContainerRecord> Containers::stop(const std::string& key, int timeout_s, int signal) {
    auto c = CTR_TRY(get(key));
    mark_user_stopped(c.id);
    c = CTR_TRY(get(c.id));
    if (c.state != store::ContainerState::running) return c;  // idempotent
    if (alive(c.pid)) ::kill(static_cast<pid_t>(*c.pid), signal);
    // Dying here: the mark keeps a restart policy off, and reconcile (or the
    // watcher, if the exit comes later) records the exit.
    failpoint("container-stop-after-signal");
    thaw_if_paused(c);
    // Woken by the exit file or the shim's end, not by a timer; a look each
    // second at most covers a wake that comes between the look and the wait.
    auto wait_until = [&](std::chrono::steady_clock::time_point deadline) -> Status {
        using namespace std::chrono;
        for (auto left = deadline - steady_clock::now(); c.state == store::ContainerState::running && left.count() > 0;
             left = deadline - steady_clock::now()) {
            auto before = steady_clock::now();
            wait_for_shim(c.id, static_cast<int>(std::min<int64_t>(duration_cast<milliseconds>(left).count() + 1, 1000)), true);
            // A shim that ended while its process lives (killed outright) wakes every wait at once.
            if (steady_clock::now() - before < milliseconds(5)) std::this_thread::sleep_for(milliseconds(10));
            c = CTR_TRY(get(c.id));
        }
        return ok();
    };
    CTR_TRY_STATUS(wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s)));
    if (c.state == store::ContainerState::running) {
        if (alive(c.pid)) ::kill(static_cast<pid_t>(*c.pid), SIGKILL);
        CTR_TRY_STATUS(wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(10)));
    }
    note(c, "stop");
    return c;
}

}  // namespace ctr::apiserver
