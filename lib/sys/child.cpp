#include <ctr/sys/child.hpp>

#include <ctr/sys/spawn.hpp>

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

Child& Child::operator=(Child&& o) noexcept {
    if (this != &o) {
        stop();
        pid_ = o.pid_;
        o.pid_ = -1;
    }
    return *this;
}

Child::~Child() { stop(); }

bool Child::running() {
    if (pid_ <= 0) return false;
    if (::waitpid(pid_, nullptr, WNOHANG) == 0) return true;
    pid_ = -1;
    return false;
}

void Child::stop(int grace_ms) {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int waited = 0; waited < grace_ms; waited += 10) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

}  // namespace ctr::sys
