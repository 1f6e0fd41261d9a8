// Child processes: spawned with posix_spawn (never fork without exec), always
// reaped, killed when a deadline passes.
#pragma once

#include <ctr/sdk/result.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ctr::sys {

struct ExitStatus {
    int code = -1;        // exit code, when it exited
    int signal = 0;       // the signal that killed it, when killed
    bool timed_out = false;

    bool success() const { return !timed_out && signal == 0 && code == 0; }
    // "exited with code 3", "killed by signal 11 (Segmentation fault)", "timed out after 5000 ms"
    std::string describe(int timeout_ms = 0) const;
};

struct Captured {
    ExitStatus status;
    std::string out;  // what the child wrote to stdout
    std::string err;  // and to stderr, when asked for (else stderr is /dev/null)
};

struct RunOptions {
    int timeout_ms = 10000;
    bool capture_stderr = false;
    std::vector<std::string> env;  // "K=V" entries added to (or replacing in) our environment
    std::string cwd;               // "": ours
};

// Runs argv[0] (an absolute path) with stdin on /dev/null and collects its
// output. After the timeout the child is killed with SIGKILL.
Result<Captured> run_capture(const std::vector<std::string>& argv, const RunOptions& options);
inline Result<Captured> run_capture(const std::vector<std::string>& argv, int timeout_ms) {
    RunOptions o;
    o.timeout_ms = timeout_ms;
    return run_capture(argv, o);
}

// Whether a process (any, not only ours) has ended: all of its threads, so
// that its fds are closed. A zombie nobody has reaped yet has ended. Its
// leader's state alone does not say: a killed multi-threaded process shows
// as a zombie while other threads still exit, holding its fds (a daemon's
// listening socket, which goes on taking connections meanwhile).
bool process_ended(pid_t pid);
// Whether a process is on its way out: its leader has exited (a zombie)
// while other threads of it still run. It may hold its fds for a while.
bool process_exiting(pid_t pid);

// The process a pid file names, when it still runs as one of ours (same
// uid) with `marker` in its command line: a pid reused by anything else is
// not it. 0 otherwise.
pid_t running_from_pid_file(const std::filesystem::path& pid_file, const std::string& marker);
// The same for a pid already read.
pid_t running_as(pid_t pid, const std::string& marker);
// The positive pid a pid file holds, or 0 (missing, empty, not a number).
pid_t read_pid_file(const std::filesystem::path& pid_file);

// The fields of /proc/PID/stat that this project reads. The one parser of
// that file: the command name in parentheses may hold spaces and ')', so
// fields are counted from the last ')'.
struct ProcStat {
    std::string comm;       // the name between the parentheses
    char state = '?';       // 'R', 'S', 'Z', ...
    pid_t ppid = -1;
    uint64_t utime = 0;     // clock ticks in user mode
    uint64_t stime = 0;     // clock ticks in kernel mode
    uint64_t cpu_ns() const;  // utime + stime, in nanoseconds
};
// Nothing when the process is gone (or /proc is not there).
std::optional<ProcStat> read_proc_stat(pid_t pid);

// The host's CPU time (all CPUs, all states) in nanoseconds, from /proc/stat;
// 0 if it cannot be read.
int64_t host_cpu_ns();

// One line of a process listing, as `top` and `ps` show it.
struct ProcessEntry {
    pid_t pid = -1;
    pid_t ppid = -1;
    // The command line, arguments joined by spaces; a process without one
    // (a zombie, a kernel thread, one between exec and its first page) is
    // named by its comm in brackets, as ps does.
    std::string command;
};

// Every process of this host whose pid `keep` accepts, by pid.
std::vector<ProcessEntry> list_processes(const std::function<bool(pid_t)>& keep);

// A container's processes, from its first process `init`: every process in
// init's PID namespace when that is not ours, else (a container sharing the
// host's PID namespace, a VM whose processes live in a guest) those of
// init's cgroups, never the whole host. Nothing if `init` is gone.
std::vector<ProcessEntry> container_processes(pid_t init);

}  // namespace ctr::sys
