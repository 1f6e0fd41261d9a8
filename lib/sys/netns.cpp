#include <ctr/sys/netns.hpp>

#include <ctr/sys/files.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <cstring>
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <functional>
#include <sstream>
#include <thread>
#include <vector>

namespace ctr::sys {

Status make_netns(const std::filesystem::path& path) {
    {
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
        if (!fd.valid()) return errno_error("create", path, errno);
    }
    Status result = ok();
    std::thread([&] {
        // unshare() acts on this thread alone; the thread ends right after,
        // and the bind mount keeps the namespace alive.
        if (::unshare(CLONE_NEWNET) != 0) {
            result = errno_error("unshare a network namespace for", path, errno);
            return;
        }
        std::string self = "/proc/self/task/" + std::to_string(::syscall(SYS_gettid)) + "/ns/net";
        if (::mount(self.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0)
            result = errno_error("bind the network namespace on", path, errno);
    }).join();
    if (!result) ::unlink(path.c_str());
    return result;
}

namespace {

// Runs `fn` on a short-lived thread that has joined the namespace pinned at
// `netns` (no thread of ours stays in another namespace).
Status in_netns(const std::filesystem::path& netns, const std::function<Status()>& fn) {
    UniqueFd ns(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns.valid()) return errno_error("open", netns, errno);
    Status result = ok();
    std::thread([&] {
        if (::setns(ns.get(), CLONE_NEWNET) != 0) result = errno_error("join the network namespace", netns, errno);
        else result = fn();
    }).join();
    return result;
}

}  // namespace

Result<std::string> read_in_netns(const std::filesystem::path& netns, const std::filesystem::path& file) {
    std::string text;
    CTR_TRY_STATUS(in_netns(netns, [&]() -> Status {
        text = CTR_TRY(read_file(file));
        return ok();
    }));
    return text;
}

Status write_in_netns(const std::filesystem::path& netns, const std::filesystem::path& file, const std::string& text) {
    return in_netns(netns, [&]() -> Status {
        // Written in place: a /proc/sys file takes its value as it is written.
        UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd.valid()) return errno_error("open", file, errno);
        if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) return errno_error("write", file, errno);
        return ok();
    });
}

Status loopback_up(const std::filesystem::path& netns) {
    return in_netns(netns, [&]() -> Status {
        UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        ifreq ifr{};
        std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
        if (!s.valid() || ::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) return errno_error("read the flags of lo in", netns, errno);
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
        if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) return errno_error("set lo up in", netns, errno);
        return ok();
    });
}

Status remove_netns(const std::filesystem::path& path) {
    if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
        return errno_error("unmount", path, errno);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_error("remove", path, errno);
    return ok();
}

NetTotals net_dev_totals(const std::string& proc_net_dev) {
    // Two header lines, then "  eth0: RX bytes packets errs drop fifo frame
    // compressed multicast TX bytes ...": RX bytes is the first field after
    // the colon, TX bytes the ninth.
    NetTotals t;
    std::istringstream lines(proc_net_dev);
    for (std::string line; std::getline(lines, line);) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::istringstream f(line.substr(colon + 1));
        std::vector<int64_t> v;
        for (int64_t x; f >> x;) v.push_back(x);
        if (v.size() < 9) continue;
        t.rx_bytes += v[0];
        t.tx_bytes += v[8];
    }
    return t;
}

}  // namespace ctr::sys
