#include <ctr/sys/userns.hpp>

#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/spawn.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <string_view>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ctr::sys {

namespace {

std::string user_name(uid_t uid) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found) return {};
    return found->pw_name;
}

// Writes one of our own /proc/self files (uid_map, gid_map, setgroups).
Status write_self(const char* name, const std::string& text) {
    std::string path = std::string("/proc/self/") + name;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd.valid() || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        return errno_error("write", path, errno);
    return ok();
}

// A child that waits for one byte on `ready`, then runs `argv`: the setuid
// map writers must start outside the new namespace (inside, the host's root
// that owns them is not mapped and their setuid bit would count for
// nothing), and can only act once it exists. Nothing but system calls
// between fork and exec.
pid_t waiting_child(const std::vector<std::string>& argv, int ready) {
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid != 0) return pid;
    char byte = 0;
    ssize_t n;
    while ((n = ::read(ready, &byte, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) ::_exit(1);  // the parent gave up
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
}

Status wait_ok(pid_t pid, const std::string& what) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ok();
    return make_error(CTR_E_PERMISSION_DENIED, what + " failed (exit " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) +
                                                   "): are the user's ranges in /etc/subuid and /etc/subgid free of overlaps?");
}

// On a hybrid host crun refuses to run while a cgroup2 mount with any
// controllers stands beside the v1 ones (the root daemon hides it per call,
// in runtime-linux); in our own mount namespace a user cannot unmount what
// the host mounted, but can cover it.
void cover_hybrid_cgroup2() {
    if (hybrid_cgroups()) (void)::mount("none", "/sys/fs/cgroup/unified", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k");
}

}  // namespace

std::vector<IdRange> subordinate_ranges(const std::filesystem::path& file, const std::string& name, uint32_t id) {
    std::vector<IdRange> out;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        auto a = line.find(':');
        auto b = a == std::string::npos ? a : line.find(':', a + 1);
        if (b == std::string::npos) continue;
        std::string who = line.substr(0, a);
        if (who != name && who != std::to_string(id)) continue;
        try {
            IdRange r{static_cast<uint32_t>(std::stoul(line.substr(a + 1, b - a - 1))), static_cast<uint32_t>(std::stoul(line.substr(b + 1)))};
            if (r.count > 0) out.push_back(r);
        } catch (const std::exception&) {
        }
    }
    return out;
}

std::vector<std::string> id_map_args(uint32_t id, const std::vector<IdRange>& ranges) {
    std::vector<std::string> out = {"0", std::to_string(id), "1"};
    uint64_t inside = 1;
    for (const auto& r : ranges) {
        out.insert(out.end(), {std::to_string(inside), std::to_string(r.start), std::to_string(r.count)});
        inside += r.count;
    }
    return out;
}

std::string single_id_warning() {
    const uid_t uid = ::getuid();
    const std::string name = user_name(uid);
    if (!subordinate_ranges("/etc/subuid", name, uid).empty() && !subordinate_ranges("/etc/subgid", name, uid).empty()) return {};
    const std::string who = name.empty() ? std::to_string(uid) : name;
    return "no ranges for " + who + " in /etc/subuid and /etc/subgid: only your own id is mapped, so a container's files and processes "
           "of other owners become yours and changing owners fails (as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 " + who + ")";
}

uint64_t mapped_id_count() {
    auto map = read_file("/proc/self/uid_map");
    if (!map) return kAllIds;
    uint64_t total = 0;
    std::istringstream lines(*map);
    for (uint64_t inside, outside, count; lines >> inside >> outside >> count;) total += count;
    return total;
}

bool in_user_namespace() { return mapped_id_count() < kAllIds; }

bool may_make_cgroups() {
    if (!in_user_namespace()) return true;
    const char* said = std::getenv(kRootlessCgroupsEnv);
    return said && std::string_view(said) == "delegated";
}

Status join_user_namespace(pid_t pid) {
    const std::string base = "/proc/" + std::to_string(pid) + "/ns/";
    UniqueFd user(::open((base + "user").c_str(), O_RDONLY | O_CLOEXEC)), mnt(::open((base + "mnt").c_str(), O_RDONLY | O_CLOEXEC));
    if (!user.valid() || !mnt.valid()) return errno_error("open the namespaces of", std::to_string(pid), errno);
    if (::setns(user.get(), CLONE_NEWUSER) != 0) return errno_error("join the user namespace of", std::to_string(pid), errno);
    if (::setns(mnt.get(), CLONE_NEWNS) != 0) return errno_error("join the mount namespace of", std::to_string(pid), errno);
    if (::setresgid(0, 0, 0) != 0) return errno_error("setresgid", "0", errno);
    (void)::setgroups(0, nullptr);  // refused where only one id is mapped (setgroups denied): none to drop then
    if (::setresuid(0, 0, 0) != 0) return errno_error("setresuid", "0", errno);
    return ok();
}

Result<UserNamespace> enter_user_namespace() {
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    const std::string name = user_name(uid);
    auto uids = subordinate_ranges("/etc/subuid", name, uid);
    auto gids = subordinate_ranges("/etc/subgid", name, uid);
    UserNamespace ns;
    ns.single_id = uids.empty() || gids.empty();
    if (ns.single_id) ns.warning = single_id_warning();

    std::vector<pid_t> writers;
    UniqueFd ready_read, ready_write;
    if (!ns.single_id) {
        const std::string newuidmap = find_program("newuidmap"), newgidmap = find_program("newgidmap");
        if (newuidmap.empty() || newgidmap.empty())
            return make_error(CTR_E_NOT_FOUND, "newuidmap and newgidmap are needed to map " + name + "'s ranges of /etc/subuid (Debian: apt-get install uidmap)");
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) return errno_error("pipe", "", errno);
        ready_read.reset(p[0]);
        ready_write.reset(p[1]);
        const std::string self = std::to_string(::getpid());
        std::vector<std::string> uid_argv = {newuidmap, self}, gid_argv = {newgidmap, self};
        for (const auto& a : id_map_args(uid, uids)) uid_argv.push_back(a);
        for (const auto& a : id_map_args(gid, gids)) gid_argv.push_back(a);
        for (const auto* argv : {&uid_argv, &gid_argv}) {
            pid_t pid = waiting_child(*argv, ready_read.get());
            if (pid < 0) return errno_error("fork", argv->front(), errno);
            writers.push_back(pid);
        }
        ready_read.reset();
        for (const auto& r : uids) ns.ids += r.count;
    }

    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
        int e = errno;
        ready_write.reset();  // the writers read nothing and end
        for (pid_t pid : writers) (void)wait_ok(pid, "");
        return errno_error("make a user namespace", "", e);
    }
    if (ns.single_id) {
        CTR_TRY_STATUS(write_self("setgroups", "deny"));
        CTR_TRY_STATUS(write_self("uid_map", "0 " + std::to_string(uid) + " 1\n"));
        CTR_TRY_STATUS(write_self("gid_map", "0 " + std::to_string(gid) + " 1\n"));
    } else {
        const char go[2] = {1, 1};
        if (::write(ready_write.get(), go, sizeof go) != sizeof go) return errno_error("write", "pipe", errno);
        ready_write.reset();
        CTR_TRY_STATUS(wait_ok(writers[0], "newuidmap"));
        CTR_TRY_STATUS(wait_ok(writers[1], "newgidmap"));
    }
    if (::setresgid(0, 0, 0) != 0) return errno_error("setresgid", "0", errno);
    if (!ns.single_id && ::setgroups(0, nullptr) != 0) return errno_error("setgroups", "", errno);
    if (::setresuid(0, 0, 0) != 0) return errno_error("setresuid", "0", errno);
    // Our mounts stay ours; the host's later ones still reach us.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) return errno_error("make mounts private", "/", errno);
    cover_hybrid_cgroup2();
    return ns;
}

}  // namespace ctr::sys
