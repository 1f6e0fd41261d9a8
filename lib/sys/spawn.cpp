#include <ctr/sys/spawn.hpp>

#include <ctr/sys/files.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <algorithm>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace ctr::sys {

namespace {

// Our environment with `extra` added, replacing same-named entries.
std::vector<std::string> merged_env(const std::vector<std::string>& extra) {
    std::vector<std::string> out;
    for (char** e = environ; *e; ++e) {
        std::string entry = *e;
        std::string key = entry.substr(0, entry.find('='));
        bool replaced = std::any_of(extra.begin(), extra.end(),
                                    [&](const std::string& x) { return x.substr(0, x.find('=')) == key; });
        if (!replaced) out.push_back(entry);
    }
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
}

}  // namespace

std::string find_program(const std::string& name) {
    if (name.empty()) return {};
    std::error_code ec;
    if (name.front() == '/') return std::filesystem::exists(name, ec) ? name : std::string();
    const char* path = std::getenv("PATH");
    std::stringstream ss(path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    std::vector<std::string> dirs;
    for (std::string dir; std::getline(ss, dir, ':');)
        if (!dir.empty()) dirs.push_back(dir);
    // Then the sbin folders, which an ordinary user's PATH lacks on Debian:
    // a rootless daemon still runs tc and the like from there.
    dirs.insert(dirs.end(), {"/usr/local/sbin", "/usr/sbin", "/sbin"});
    for (const auto& dir : dirs)
        if (::access((std::filesystem::path(dir) / name).c_str(), X_OK) == 0) return (std::filesystem::path(dir) / name).string();
    return {};
}

Result<pid_t> spawn(const std::vector<std::string>& argv, const SpawnOptions& o) {
    if (argv.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "spawn: empty command");
    const int out_flags = O_WRONLY | O_CREAT | (o.truncate ? O_TRUNC : O_APPEND);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (o.stdin_fd >= 0) posix_spawn_file_actions_adddup2(&fa, o.stdin_fd, 0);
    else posix_spawn_file_actions_addopen(&fa, 0, o.stdin_path.c_str(), O_RDONLY, 0);
    if (o.stdout_fd >= 0) posix_spawn_file_actions_adddup2(&fa, o.stdout_fd, 1);
    else posix_spawn_file_actions_addopen(&fa, 1, o.stdout_path.c_str(), out_flags, 0600);
    if (o.stderr_fd >= 0) posix_spawn_file_actions_adddup2(&fa, o.stderr_fd, 2);
    else if (o.stderr_path.empty()) posix_spawn_file_actions_adddup2(&fa, 1, 2);
    else posix_spawn_file_actions_addopen(&fa, 2, o.stderr_path.c_str(), out_flags, 0600);
    int highest = 2;
    for (const auto& [ours, theirs] : o.pass_fds) {
        posix_spawn_file_actions_adddup2(&fa, ours, theirs);  // dup2 clears close-on-exec
        highest = std::max(highest, theirs);
    }
    // Nothing else of ours reaches the child: no socket, lock or pipe that it
    // would hold open after we are gone.
    posix_spawn_file_actions_addclosefrom_np(&fa, highest + 1);
    if (!o.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, o.cwd.c_str());

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    // A signal ignored here (the daemon ignores SIGPIPE) would stay ignored
    // across the exec: `yes | head` in a container would never end.
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (o.new_session) flags |= POSIX_SPAWN_SETSID;
    posix_spawnattr_setflags(&attr, flags);

    std::vector<std::string> env = merged_env(o.env);
    std::vector<char*> cargv, cenv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
    pid_t pid = -1;
    int rc = 0;
    if (o.netns.empty()) {
        rc = ::posix_spawn(&pid, argv[0].c_str(), &fa, &attr, cargv.data(), cenv.data());
    } else {
        // A child starts in its parent thread's namespaces: spawned from a
        // short-lived thread that joined the namespace, no thread of ours
        // stays in it.
        UniqueFd ns(::open(o.netns.c_str(), O_RDONLY | O_CLOEXEC));
        rc = ns.valid() ? 0 : errno;
        if (rc == 0)
            std::thread([&] {
                rc = ::setns(ns.get(), CLONE_NEWNET) == 0 ? ::posix_spawn(&pid, argv[0].c_str(), &fa, &attr, cargv.data(), cenv.data()) : errno;
            }).join();
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return errno_error("spawn", argv[0], rc);
    return pid;
}

}  // namespace ctr::sys
