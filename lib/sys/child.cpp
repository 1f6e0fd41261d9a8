#include <ctr/sys/child.hpp>

#include <ctr/sys/spawn.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace ctr::sys {

Result<Child> Child::spawn(const std::vector<std::string>& argv, const std::string& log, const std::vector<std::string>& env) {
    SpawnOptions o;
    o.stdout_path = log.empty() ? "/dev/null" : log;
    o.stderr_path.clear();  // with stdout
    o.env = env;
    pid_t pid = CTR_TRY(sys::spawn(argv, o));
    return Child(pid);
}

Result<Child> Child::spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
    pid_t pid = CTR_TRY(sys::spawn(argv, options));
    return Child(pid);
}

// Several threads may stop or poll one child (runtime-microvm's wait and
// delete both end a container's signal proxy). Whoever takes the pid out
// of pid_ (atomically) signals and reaps it; the others see -1 and leave it
// be. Never kill(pid_, ...) as read later: once another thread has set it
// to -1, kill(-1, SIGKILL) is every process this one may signal (as root,
// the machine's).
namespace {
pid_t take(pid_t& pid) { return std::atomic_ref<pid_t>(pid).exchange(-1); }
}  // namespace

Child& Child::operator=(Child&& o) noexcept {
    if (this != &o) {
        stop();
        pid_ = take(o.pid_);
    }
    return *this;
}

Child::~Child() { stop(); }

bool Child::running() {
    pid_t pid = std::atomic_ref<pid_t>(pid_).load();
    if (pid <= 0) return false;
    if (::waitpid(pid, nullptr, WNOHANG) == 0) return true;
    // Reaped here (or by a stop() that took it meanwhile): gone either way.
    std::atomic_ref<pid_t>(pid_).compare_exchange_strong(pid, -1);
    return false;
}

void Child::stop(int grace_ms) {
    const pid_t pid = take(pid_);
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    for (int waited = 0; waited < grace_ms; waited += 10) {
        if (::waitpid(pid, nullptr, WNOHANG) != 0) return;  // reaped, or reaped by running() in another thread
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

}  // namespace ctr::sys
