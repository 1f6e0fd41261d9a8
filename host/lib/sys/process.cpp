#include "sys/process.hpp"

#include "sys/files.hpp"
#include "sys/unique_fd.hpp"

#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace ctr::sys {

std::string ExitStatus::describe(int timeout_ms) const {
    if (timed_out) return "timed out after " + std::to_string(timeout_ms) + " ms";
    if (signal != 0) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
    return "exited with code " + std::to_string(code);
}

namespace {
ExitStatus decode(int wstatus) {
    ExitStatus s;
    if (WIFEXITED(wstatus)) s.code = WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus)) s.signal = WTERMSIG(wstatus);
    return s;
}

int wait_child(pid_t pid) {
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    return wstatus;
}
}  // namespace

namespace {
// Our environment with `extra` ("K=V") added, replacing same-named entries.
std::vector<std::string> merged_env(const std::vector<std::string>& extra) {
    std::vector<std::string> out;
    for (char** e = environ; *e; ++e) {
        std::string entry = *e;
        std::string key = entry.substr(0, entry.find('='));
        bool replaced = false;
        for (const auto& x : extra) replaced = replaced || x.substr(0, x.find('=')) == key;
        if (!replaced) out.push_back(entry);
    }
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
}
}  // namespace

Result<Captured> run_capture(const std::vector<std::string>& argv, const RunOptions& options) {
    if (argv.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "run: empty command");
    const int timeout_ms = options.timeout_ms;
    int fds[2], efds[2] = {-1, -1};
    if (::pipe2(fds, O_CLOEXEC) != 0) return errno_error("pipe", argv[0], errno);
    UniqueFd rd(fds[0]), wr(fds[1]);
    if (options.capture_stderr && ::pipe2(efds, O_CLOEXEC) != 0) return errno_error("pipe", argv[0], errno);
    UniqueFd erd(efds[0]), ewr(efds[1]);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, wr.get(), STDOUT_FILENO);
    if (options.capture_stderr) posix_spawn_file_actions_adddup2(&fa, ewr.get(), STDERR_FILENO);
    else posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    // Nothing of ours leaks into the child: no sockets, locks or pipes it would hold open.
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);  // the child starts with no blocked signals
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);

    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    std::vector<std::string> env = merged_env(options.env);
    std::vector<char*> cenv;
    for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, argv[0].c_str(), &fa, &attr, cargv.data(), cenv.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return errno_error("spawn", argv[0], rc);
    wr.reset();
    ewr.reset();

    Captured result;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    char buf[4096];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            ::kill(pid, SIGKILL);
            wait_child(pid);
            result.status.timed_out = true;
            return result;
        }
        pollfd p[2] = {{rd.get(), POLLIN, 0}, {erd.get(), POLLIN, 0}};
        nfds_t count = erd.valid() ? 2 : 1;
        if (!rd.valid()) {  // stdout closed: watch stderr alone
            p[0] = p[1];
            count = 1;
        }
        int n = ::poll(p, count, static_cast<int>(left));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) continue;
        for (nfds_t i = 0; i < count; ++i) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            bool is_out = p[i].fd == rd.get();
            ssize_t got = ::read(p[i].fd, buf, sizeof buf);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                (is_out ? rd : erd).reset();
                continue;
            }
            (is_out ? result.out : result.err).append(buf, static_cast<size_t>(got));
        }
        if (!rd.valid() && !erd.valid()) break;
    }
    result.status = decode(wait_child(pid));
    return result;
}

}  // namespace ctr::sys
