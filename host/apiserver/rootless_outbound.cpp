#include "apiserver/rootless_outbound.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace ctr::apiserver {

namespace {

constexpr const char* kProgram = "slirp4netns";
// Configuring the device takes milliseconds; an emulated machine is slower.
constexpr int kReadyTimeoutMs = 20000;

std::filesystem::path pid_file(const Paths& paths) { return paths.run_dir() / "slirp4netns.pid"; }
std::filesystem::path log_file(const Paths& paths) { return paths.run_dir() / "slirp4netns.log"; }

// This root's slirp4netns when it runs (one that ended while we were its
// parent is reaped first).
pid_t running(const Paths& paths) {
    const pid_t pid = sys::read_pid_file(pid_file(paths));
    if (pid > 0) (void)::waitpid(pid, nullptr, WNOHANG);
    return sys::running_as(pid, kProgram);
}

// The last line slirp4netns wrote: why it stopped.
std::string last_words(const Paths& paths) {
    auto text = sys::read_file(log_file(paths));
    if (!text) return "no message";
    while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
    auto nl = text->rfind('\n');
    return text->empty() ? "no message" : text->substr(nl == std::string::npos ? 0 : nl + 1);
}

// Waits for slirp4netns to say the device is up ("1" on the ready fd).
bool ready(int fd) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kReadyTimeoutMs);
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        char c = 0;
        return ::read(fd, &c, 1) == 1 && c == '1';  // EOF: it exited first
    }
}

}  // namespace

Outbound start_outbound(const Paths& paths, const std::filesystem::path& netns) {
    if (running(paths)) return {kProgram, ""};
    const std::string exe = sys::find_program(kProgram);
    if (exe.empty()) return {"", "slirp4netns is not installed (Debian: apt-get install slirp4netns)"};
    // Opened as the user: its mode decides (0600, root's alone, on some hosts).
    if (::access("/dev/net/tun", R_OK | W_OK) != 0)
        return {"", std::string("/dev/net/tun cannot be opened by this user (") + std::strerror(errno) +
                        "); most distributions make it mode 0666"};
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return {"", std::string("pipe: ") + std::strerror(errno)};
    sys::UniqueFd read_end(fds[0]), write_end(fds[1]);
    sys::SpawnOptions so;
    so.pass_fds = {{write_end.get(), 3}};
    so.new_session = true;  // it outlives this daemon, as the namespace does
    so.stdout_path = log_file(paths).string();
    so.stderr_path = "";
    so.truncate = true;
    // No way to the host's own loopback (podman's default too): a
    // container reaches the host's services by the host's address alone.
    auto pid = sys::spawn({exe, "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox", "--enable-seccomp",
                           "--netns-type=path", "--ready-fd=3", netns.string(), "tap0"},
                          so);
    write_end.reset();
    if (!pid) return {"", "start slirp4netns: " + pid.error().message};
    if (!ready(read_end.get())) {
        ::kill(*pid, SIGKILL);
        (void)::waitpid(*pid, nullptr, 0);
        return {"", "slirp4netns did not start: " + last_words(paths)};
    }
    if (auto st = sys::write_file_atomic(pid_file(paths), std::to_string(*pid) + "\n", 0600); !st)
        spdlog::warn("slirp4netns runs as pid {}, but its pid file was not written: {}", *pid, st.error().message);
    return {kProgram, ""};
}

void stop_outbound(const Paths& paths) {
    if (pid_t pid = running(paths)) {
        ::kill(pid, SIGTERM);
        // Reaped when we are its parent; else init does it.
        for (int i = 0; i < 20 && ::waitpid(pid, nullptr, WNOHANG) == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    std::error_code ec;
    std::filesystem::remove(pid_file(paths), ec);
}

}  // namespace ctr::apiserver
