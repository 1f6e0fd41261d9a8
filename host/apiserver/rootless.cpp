#include "apiserver/rootless.hpp"
#include "apiserver/rootless_outbound.hpp"

#include <ctr/pluginhost/host_env.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/netns.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>

#include <ctr/sys/unique_fd.hpp>

#include <csignal>
#include <fcntl.h>
#include <sstream>
#include <cstdlib>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

namespace ctr::apiserver {

namespace {

constexpr const char* kHoldFlag = "--hold-namespaces";

std::filesystem::path holder_pid_file(const Paths& paths) { return paths.run_dir() / "userns-holder.pid"; }

// The holder of this root, when it runs: our user's, running our program
// with the holder's flag.
pid_t running_holder(const Paths& paths) { return sys::running_from_pid_file(holder_pid_file(paths), kHoldFlag); }

const std::filesystem::path kCgroupRoot = "/sys/fs/cgroup";

// One write to a cgroup file (never a temporary and a rename: the kernel's
// file takes its value as it is written).
bool write_cgroup(const std::filesystem::path& file, const std::string& text) {
    sys::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    return fd.valid() && ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

// A cgroup we may make children in, move processes into and give
// controllers to: its folder and those two files are ours (delegated).
bool ours_to_write(const std::filesystem::path& rel) {
    const auto dir = kCgroupRoot / rel.relative_path();
    return ::access(dir.c_str(), W_OK) == 0 && ::access((dir / "cgroup.procs").c_str(), W_OK) == 0 &&
           ::access((dir / "cgroup.subtree_control").c_str(), W_OK) == 0;
}

}  // namespace

std::string rootless_cgroups(const Paths& paths) {
    struct statfs fs{};
    if (::statfs(kCgroupRoot.c_str(), &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) return "";
    auto self = sys::read_file("/proc/self/cgroup");  // "0::/PATH" alone on a v2 host
    if (!self || self->rfind("0::", 0) != 0) return "";
    std::filesystem::path own = self->substr(3, self->find('\n') == std::string::npos ? std::string::npos : self->find('\n') - 3);
    if (own.empty() || own == "/" || !ours_to_write(own)) return "";
    auto base = own;
    while (base.parent_path() != "/" && ours_to_write(base.parent_path())) base = base.parent_path();
    // Processes live in leaves only (cgroup v2): ours in a leaf of its own,
    // so that the base can give its controllers to the containers' cgroups.
    const auto leaf = kCgroupRoot / base.relative_path() /
                      ("container-daemon-" + std::to_string(std::hash<std::string>()(paths.root().string()) % 1000000007ULL));
    if (auto st = sys::make_dirs(leaf, 0755); !st) return "";
    if (!write_cgroup(leaf / "cgroup.procs", std::to_string(::getpid()))) return "";
    auto controllers = sys::read_file(kCgroupRoot / base.relative_path() / "cgroup.controllers");
    if (!controllers) return "";
    std::istringstream words(*controllers);
    for (std::string c; words >> c;) {
        if (c != "cpu" && c != "memory" && c != "pids" && c != "io") continue;
        // Refused (EBUSY) while the base itself holds a process: then no limits.
        if (!write_cgroup(kCgroupRoot / base.relative_path() / "cgroup.subtree_control", "+" + c)) return "";
    }
    return base.string();
}

Result<sys::UserNamespace> enter_rootless(const Paths& paths) {
    CTR_TRY_STATUS(sys::make_dirs(paths.run_dir(), 0700));
    if (pid_t holder = running_holder(paths)) {
        sys::UserNamespace ns;
        ns.warning = sys::single_id_warning();
        CTR_TRY_STATUS(sys::join_user_namespace(holder));
        ns.ids = static_cast<uint32_t>(sys::mapped_id_count());
        ns.single_id = ns.ids == 1;
        if (!ns.single_id) ns.warning.clear();
        return ns;
    }
    auto ns = CTR_TRY(sys::enter_user_namespace());
    sys::SpawnOptions so;
    so.new_session = true;  // no signal meant for the CLI's session reaches it
    auto pid = sys::spawn({pluginhost::self_exe().string(), kHoldFlag}, so);
    if (!pid) return make_error(CTR_E_INTERNAL, "start the holder of the user namespace: " + pid.error().message);
    CTR_TRY_STATUS(sys::write_file_atomic(holder_pid_file(paths), std::to_string(*pid) + "\n", 0600));
    return ns;
}

int hold_namespaces() {
    // Its parent (a daemon) does not wait for it: init or a subreaper does.
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGTERM);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    std::signal(SIGTERM, SIG_DFL);
    for (;;) ::pause();
}

Result<std::filesystem::path> rootless_netns(const Paths& paths) {
    auto pin = paths.run_dir() / "netns-rootless";
    struct statfs fs{};
    if (::statfs(pin.c_str(), &fs) == 0 && fs.f_type == NSFS_MAGIC) return pin;
    CTR_TRY_STATUS(sys::remove_netns(pin));  // a file left when its namespace went
    CTR_TRY_STATUS(sys::make_netns(pin));
    CTR_TRY_STATUS(sys::loopback_up(pin));  // for ports published on 127.0.0.1
    // Ours to set (a new namespace's is 0): between the bridges and out
    // through slirp4netns's device.
    CTR_TRY_STATUS(sys::write_in_netns(pin, "/proc/sys/net/ipv4/ip_forward", "1"));
    return pin;
}

void end_rootless(const Paths& paths) {
    stop_outbound(paths);
    (void)sys::remove_netns(paths.run_dir() / "netns-rootless");
    if (pid_t holder = running_holder(paths)) ::kill(holder, SIGTERM);
    std::error_code ec;
    std::filesystem::remove(holder_pid_file(paths), ec);
}

}  // namespace ctr::apiserver
