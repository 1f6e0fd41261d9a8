#include "attach_warmup.hpp"

#include <fcntl.h>
#include <fstream>
#include <string>
#include <unistd.h>

namespace runtime_linux {

namespace {

// cgroup.procs of our own cgroup in the first v1 hierarchy that has a
// controller ("N:pids:/some/path"); empty on a cgroup2-only host.
std::string own_v1_procs() {
    std::ifstream in("/proc/self/cgroup");
    for (std::string line; std::getline(in, line);) {
        auto a = line.find(':'), b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos || b == a + 1) continue;  // "0::/x" is cgroup2
        std::string controllers = line.substr(a + 1, b - a - 1);
        if (controllers.find('=') != std::string::npos || controllers.find(',') != std::string::npos) continue;
        std::string path = "/sys/fs/cgroup/" + controllers + line.substr(b + 1);
        if (path.back() != '/') path += '/';
        return path + "cgroup.procs";
    }
    return {};
}

}  // namespace

AttachWarmup::AttachWarmup() {
    std::string procs = own_v1_procs();
    if (procs.empty()) return;
    int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    thread_ = std::thread([fd] {
        [[maybe_unused]] auto n = ::write(fd, "0", 1);  // any error: no warm-up, no harm
        ::close(fd);
    });
}

AttachWarmup::~AttachWarmup() {
    if (thread_.joinable()) thread_.join();
}

}  // namespace runtime_linux
