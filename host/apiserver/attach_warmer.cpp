#include "apiserver/attach_warmer.hpp"

#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <fcntl.h>
#include <unistd.h>

namespace ctr::apiserver {

namespace {

// cgroup.procs of our own cgroup in the first single-controller v1
// hierarchy ("7:pids:/a/b"); empty on a cgroup2-only host.
std::string own_v1_procs() {
    for (const auto& m : sys::Cgroups().of(::getpid())) {
        if (m.controllers.empty() || m.controllers.find_first_of("=,") != std::string::npos) continue;  // cgroup2, named, co-mounted
        const std::string procs = (m.dir / "cgroup.procs").string();
        if (::access(procs.c_str(), W_OK) == 0) return procs;
    }
    return {};
}

}  // namespace

AttachWarmer::AttachWarmer() : procs_(own_v1_procs()) {
    if (!procs_.empty()) thread_ = std::thread([this] { run(); });
}

AttachWarmer::~AttachWarmer() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void AttachWarmer::kick() {
    if (procs_.empty()) return;
    {
        std::lock_guard<std::mutex> lock(mu_);
        kicked_ = true;
    }
    cv_.notify_one();
}

void AttachWarmer::run() {
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return kicked_ || stop_; });
            if (stop_) return;
            kicked_ = false;
        }
        sys::UniqueFd fd(::open(procs_.c_str(), O_WRONLY | O_CLOEXEC));
        if (fd.valid()) [[maybe_unused]] auto n = ::write(fd.get(), "0", 1);  // an error only means no warm-up
    }
}

}  // namespace ctr::apiserver
