#include <ctr/sys/process.hpp>

#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/spawn.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <set>
#include <sstream>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>


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

Result<Captured> run_capture(const std::vector<std::string>& argv, const RunOptions& options) {
    if (argv.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "run: empty command");
    const int timeout_ms = options.timeout_ms;
    auto [rd, wr] = CTR_TRY(make_pipe());
    FdPair err;
    if (options.capture_stderr) err = CTR_TRY(make_pipe());
    UniqueFd& erd = err.read;
    UniqueFd& ewr = err.write;

    SpawnOptions so;
    so.stdout_fd = wr.get();
    so.stderr_fd = options.capture_stderr ? ewr.get() : -1;
    so.env = options.env;
    so.cwd = options.cwd;
    pid_t pid = CTR_TRY(spawn(argv, so));
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

std::optional<ProcStat> read_proc_stat(pid_t pid) {
    if (pid <= 0) return std::nullopt;
    auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!text) return std::nullopt;
    auto close = text->rfind(')');
    if (close == std::string::npos || close + 2 >= text->size()) return std::nullopt;
    ProcStat s;
    if (auto open = text->find('('); open != std::string::npos && open < close) s.comm = text->substr(open + 1, close - open - 1);
    unsigned long long utime = 0, stime = 0;
    int ppid = -1;
    // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
    if (std::sscanf(text->c_str() + close + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &s.state, &ppid, &utime,
                    &stime) < 2)
        return std::nullopt;
    s.ppid = ppid;
    s.utime = utime;
    s.stime = stime;
    return s;
}

uint64_t ProcStat::cpu_ns() const {
    static const uint64_t ns_per_tick = 1000000000ULL / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
    return (utime + stime) * ns_per_tick;
}

namespace {
// The leader's state letter; '?' if none.
char leader_state(pid_t pid) {
    auto s = read_proc_stat(pid);
    return s ? s->state : '?';
}
}  // namespace

bool process_ended(pid_t pid) {
    if (pid <= 0) return true;
    // A pidfd polls readable once the whole thread group has exited.
    UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (fd.valid()) {
        pollfd p{fd.get(), POLLIN, 0};
        return ::poll(&p, 1, 0) == 1;
    }
    if (errno == ESRCH) return true;
    // No pidfds here (before Linux 5.3): the leader's state, which is right
    // but for the moment while a killed process's threads exit.
    if (::kill(pid, 0) != 0) return errno == ESRCH;
    char state = leader_state(pid);
    return state == 'Z' || state == '?';
}

bool process_exiting(pid_t pid) { return pid > 0 && leader_state(pid) == 'Z' && !process_ended(pid); }

pid_t read_pid_file(const std::filesystem::path& pid_file) {
    auto text = read_file(pid_file);
    const pid_t pid = text ? static_cast<pid_t>(std::atoi(text->c_str())) : 0;
    return pid > 0 ? pid : 0;
}

pid_t running_from_pid_file(const std::filesystem::path& pid_file, const std::string& marker) {
    return running_as(read_pid_file(pid_file), marker);
}

pid_t running_as(pid_t pid, const std::string& marker) {
    if (pid <= 0) return 0;
    struct stat st{};
    const std::string proc = "/proc/" + std::to_string(pid);
    if (::stat(proc.c_str(), &st) != 0 || st.st_uid != ::getuid()) return 0;
    auto cmdline = read_file(proc + "/cmdline");
    return cmdline && cmdline->find(marker) != std::string::npos ? pid : 0;
}

int64_t host_cpu_ns() {
    auto text = read_file("/proc/stat");
    if (!text) return 0;
    std::istringstream in(text->substr(0, text->find('\n')));  // "cpu  user nice system idle ..."
    std::string cpu;
    in >> cpu;
    int64_t ticks = 0;
    for (int64_t v; in >> v;) ticks += v;
    const long hz = ::sysconf(_SC_CLK_TCK);
    return ticks * (1000000000LL / (hz > 0 ? hz : 100));
}

std::vector<ProcessEntry> list_processes(const std::function<bool(pid_t)>& keep) {
    std::vector<ProcessEntry> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = e.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        const pid_t pid = static_cast<pid_t>(std::stol(name));
        if (!keep(pid)) continue;
        auto stat = read_proc_stat(pid);
        auto cmd = read_file(e.path() / "cmdline");
        if (!stat || !cmd) continue;  // gone meanwhile
        std::replace(cmd->begin(), cmd->end(), '\0', ' ');
        while (!cmd->empty() && cmd->back() == ' ') cmd->pop_back();
        if (cmd->empty()) *cmd = "[" + stat->comm + "]";
        out.push_back({pid, stat->ppid, std::move(*cmd)});
    }
    std::sort(out.begin(), out.end(), [](const ProcessEntry& a, const ProcessEntry& b) { return a.pid < b.pid; });
    return out;
}

std::vector<ProcessEntry> container_processes(pid_t init) {
    std::error_code ec;
    const auto ns_of = [&](const std::string& p) { return std::filesystem::read_symlink("/proc/" + p + "/ns/pid", ec).string(); };
    const std::string ns = ns_of(std::to_string(init));
    if (ns.empty()) return {};
    if (ns != ns_of("self")) return list_processes([&](pid_t p) { return ns_of(std::to_string(p)) == ns; });
    const std::set<pid_t> in = Cgroups().members(init);
    return list_processes([&](pid_t p) { return in.count(p) > 0; });
}

}  // namespace ctr::sys
