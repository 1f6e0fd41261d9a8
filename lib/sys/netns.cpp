#include <ctr/sys/netns.hpp>

#include <ctr/sys/files.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

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

Result<std::string> read_in_netns(const std::filesystem::path& netns, const std::filesystem::path& file) {
    UniqueFd ns(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns.valid()) return errno_error("open", netns, errno);
    Result<std::string> result = std::string();
    std::thread([&] {
        if (::setns(ns.get(), CLONE_NEWNET) != 0) {
            result = errno_error("join the network namespace", netns, errno);
            return;
        }
        result = read_file(file);
    }).join();
    return result;
}

Status remove_netns(const std::filesystem::path& path) {
    if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
        return errno_error("unmount", path, errno);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_error("remove", path, errno);
    return ok();
}

}  // namespace ctr::sys
