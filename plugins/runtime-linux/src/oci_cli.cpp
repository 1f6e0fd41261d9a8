#include "oci_cli.hpp"

#include <ctr/sys/files.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


extern char** environ;

namespace runtime_linux {

namespace {

// The last non-empty line of the runtime's log, without JSON wrapping.
std::string last_message(const std::string& log_path) {
    std::ifstream in(log_path);
    std::string line, last;
    while (std::getline(in, line))
        if (!line.empty()) last = line;
    // crun and runc write JSON lines with --log-format json; we use text,
    // where a line may still be "level=error msg=\"...\"" (runc).
    if (auto p = last.find("msg=\""); p != std::string::npos) {
        last = last.substr(p + 5);
        if (auto q = last.rfind('"'); q != std::string::npos) last = last.substr(0, q);
    }
    return last;
}

}  // namespace

ctr::Result<OciRun> run_oci(const OciBinary& binary, const std::vector<std::string>& args, const Stdio& stdio) {
    // The runtime's own messages go to a file of ours (its --log), in our state
    // directory like everything else of this root.
    std::string log_path = binary.state_root + ".log-XXXXXX";  // beside, not inside, its state
    int log_fd = ::mkstemp(log_path.data());
    if (log_fd < 0) return ctr::make_error(CTR_E_RESOURCE_EXHAUSTED, std::string("make a log file: ") + std::strerror(errno));
    ::close(log_fd);

    std::vector<std::string> argv = {binary.path, "--root", binary.state_root, "--log", log_path};
    argv.insert(argv.end(), binary.global_args.begin(), binary.global_args.end());
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);

    ctr::sys::FdPair out_pipe;
    if (stdio.out < 0) {
        auto p = ctr::sys::make_pipe();
        if (!p) return ctr::make_error(CTR_E_RESOURCE_EXHAUSTED, p.error().message);
        out_pipe = std::move(*p);
    }
    ctr::sys::UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));

    // fork, then only system calls until exec: this process may have threads.
    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        ::unlink(log_path.c_str());
        return ctr::make_error(CTR_E_RESOURCE_EXHAUSTED, std::string("fork: ") + std::strerror(e));
    }
    if (pid == 0) {
        if (binary.hide_unified) {
            if (::unshare(CLONE_NEWNS) != 0) ::_exit(126);
            if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(126);
            ::umount2("/sys/fs/cgroup/unified", MNT_DETACH);
        }
        ::dup2(stdio.in >= 0 ? stdio.in : devnull.get(), 0);
        ::dup2(stdio.out >= 0 ? stdio.out : out_pipe.write.get(), 1);
        ::dup2(stdio.err >= 0 ? stdio.err : devnull.get(), 2);
        // The caller's fds to pass on, made inheritable; no other fd of the
        // shim reaches the runtime or the container.
        for (int fd = 3; fd < 3 + stdio.preserve; ++fd) ::fcntl(fd, F_SETFD, 0);
        ::close_range(static_cast<unsigned>(3 + stdio.preserve), ~0U, 0);
        ::execve(cargv[0], cargv.data(), environ);
        ::_exit(127);
    }
    devnull.reset();
    OciRun run;
    if (out_pipe.read.valid()) {
        out_pipe.write.reset();
        char buf[8192];
        ssize_t n;
        while ((n = ::read(out_pipe.read.get(), buf, sizeof buf)) != 0) {
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) break;
            run.out.append(buf, static_cast<size_t>(n));
        }
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (run.exit_code != 0) run.error = last_message(log_path);
    ::unlink(log_path.c_str());
    if (run.exit_code == 127 && run.error.empty())
        return ctr::make_error(CTR_E_UNAVAILABLE, "cannot run " + binary.path);
    return run;
}

}  // namespace runtime_linux
