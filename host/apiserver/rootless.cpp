#include "apiserver/rootless.hpp"

#include <ctr/pluginhost/host_env.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/netns.hpp>
#include <ctr/sys/spawn.hpp>

#include <csignal>
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
// with the holder's flag (a pid reused by anything else is not it).
pid_t running_holder(const Paths& paths) {
    auto text = sys::read_file(holder_pid_file(paths));
    if (!text) return 0;
    pid_t pid = static_cast<pid_t>(std::atoi(text->c_str()));
    if (pid <= 0) return 0;
    struct stat st{};
    const std::string proc = "/proc/" + std::to_string(pid);
    if (::stat(proc.c_str(), &st) != 0 || st.st_uid != ::getuid()) return 0;
    auto cmdline = sys::read_file(proc + "/cmdline");
    if (!cmdline || cmdline->find(kHoldFlag) == std::string::npos) return 0;
    return pid;
}

// How many ids the namespace we are in maps (1: the user's own alone).
uint32_t mapped_ids() {
    auto map = sys::read_file("/proc/self/uid_map");
    uint64_t total = 0;
    if (!map) return 1;
    std::istringstream lines(*map);
    for (uint64_t inside, outside, count; lines >> inside >> outside >> count;) total += count;
    return static_cast<uint32_t>(total);
}

}  // namespace

Result<sys::UserNamespace> enter_rootless(const Paths& paths) {
    CTR_TRY_STATUS(sys::make_dirs(paths.run_dir(), 0700));
    if (pid_t holder = running_holder(paths)) {
        sys::UserNamespace ns;
        ns.warning = sys::single_id_warning();
        CTR_TRY_STATUS(sys::join_user_namespace(holder));
        ns.ids = mapped_ids();
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
    return pin;
}

void end_rootless(const Paths& paths) {
    (void)sys::remove_netns(paths.run_dir() / "netns-rootless");
    if (pid_t holder = running_holder(paths)) ::kill(holder, SIGTERM);
    std::error_code ec;
    std::filesystem::remove(holder_pid_file(paths), ec);
}

}  // namespace ctr::apiserver
