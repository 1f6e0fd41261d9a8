#include "run.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <unistd.h>

namespace ctr::test {

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::filesystem::path build_root() { return env_or_empty("CTR_BUILD_ROOT"); }

Run run(const std::string& binary, const std::vector<std::string>& args, const std::vector<std::string>& env,
        int timeout_ms) {
    std::vector<std::string> argv{(build_root() / binary).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    sys::RunOptions o;
    o.timeout_ms = timeout_ms;
    o.capture_stderr = true;
    o.env = env;
    auto r = sys::run_capture(argv, o);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
    Run out;
    out.out = r->out;
    out.err = r->err;
    out.code = r->status.signal ? 128 + r->status.signal : r->status.code;
    if (r->status.timed_out) out.code = -2;
    return out;
}

}  // namespace ctr::test

#include <csignal>
#include <fstream>
#include <thread>

namespace ctr::test {

namespace {
bool gone(int pid);
}  // namespace

DaemonRoot::DaemonRoot() = default;

DaemonRoot::~DaemonRoot() {
    if (daemon_pid() > 0) {
        // Every container goes: its processes, its shim, its mounts. Then a
        // test that leaked a mount fails here, before the safety net of
        // ScratchDir cleans up after it.
        (void)cli({"rm", "-a", "-f", "-v"});
        CHECK_MESSAGE(ScratchDir::mounts_below(path()).empty(), (std::string("mounts left under ") + root()));
        int stopping = daemon_pid();
        (void)cli({"system", "stop"});
        // The daemon closes its database after its socket is gone: wait for it
        // to end, or removing the directory would race with its last writes.
        for (int i = 0; i < 500 && stopping > 0 && !gone(stopping); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    int pid = daemon_pid();
    if (pid > 0 && !gone(pid)) {
        ::kill(pid, SIGKILL);
        for (int i = 0; i < 200 && !gone(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

Run DaemonRoot::cli(const std::vector<std::string>& args, const std::vector<std::string>& env) const {
    std::vector<std::string> full = {"--root", root()};
    full.insert(full.end(), args.begin(), args.end());
    return run("host/container", full, env);
}

int DaemonRoot::daemon_pid() const {
    std::ifstream in(path() / "run/container/apiserver.pid");
    int pid = 0;
    in >> pid;
    return pid;
}

void DaemonRoot::start(const std::vector<std::string>& env) {
    auto r = cli({"system", "start"}, env);
    REQUIRE_MESSAGE(r.code == 0, r.err);
}

namespace {
// Gone: no such process, or a zombie nobody reaped yet.
bool gone(int pid) {
    if (::kill(pid, 0) != 0) return true;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}
}  // namespace

void DaemonRoot::kill9() {
    int pid = daemon_pid();
    REQUIRE(pid > 0);
    ::kill(pid, SIGKILL);
    for (int i = 0; i < 500 && !gone(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(gone(pid));
}

}  // namespace ctr::test
