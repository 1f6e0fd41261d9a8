#include "run.hpp"

#include <ctr/sys/files.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <unistd.h>

namespace ctr::test {

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::string file_text(const std::filesystem::path& file) {
    auto text = sys::read_file(file);
    return text ? *text : "";
}

std::filesystem::path build_root() { return env_or_empty("CTR_BUILD_ROOT"); }

std::string docker_cli() {
    for (const char* p : {"/usr/bin/docker", "/var/cache/container-tests/docker/docker"})
        if (std::filesystem::exists(p)) return p;
    return "";
}

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

#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <algorithm>
#include <chrono>
#include <thread>

namespace ctr::test {

namespace {
bool gone(int pid);
}  // namespace

DaemonRoot::DaemonRoot() = default;

DaemonRoot::~DaemonRoot() {
    if (daemon_pid() > 0) {
        // `system reset` takes everything of the root: containers (their
        // processes, shims, mounts), networks, volumes, images; then the
        // daemon stops. A test that leaked anything fails here, before the
        // safety net of ScratchDir cleans up after it.
        int stopping = daemon_pid();
        (void)cgroup_parent();  // read while the daemon's state is there
        auto reset = cli({"system", "reset", "--force"});
        CHECK_MESSAGE(reset.code == 0, reset.err);
        for (int i = 0; i < 500 && stopping > 0 && !gone(stopping); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        CHECK_MESSAGE(ScratchDir::mounts_below(path()).empty(), (std::string("mounts left under ") + root()));
        CHECK_MESSAGE(release_network_leftovers() == 0, (std::string("network state or rules left under ") + root()));
        // Each removed container's runtime state and cgroup go too (a moment
        // later: the shim that deletes them runs on after the exit).
        std::vector<std::string> runtime_left;
        for (int i = 0; i < 300; ++i) {
            runtime_left = runtime_leftovers();
            if (runtime_left.empty()) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        CHECK_MESSAGE(runtime_left.empty(), (std::string("runtime state or cgroups left: ") + (runtime_left.empty() ? "" : runtime_left[0])));
        if (!cgroup_parent().empty())
            for (const auto& dir : sys::Cgroups().dirs(cgroup_parent()))
                CHECK_MESSAGE(!std::filesystem::exists(dir), "the daemon left its cgroup parent " << dir.string());
    }
    int pid = daemon_pid();
    if (pid > 0 && !gone(pid)) {
        ::kill(pid, SIGKILL);
        for (int i = 0; i < 200 && !gone(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    release_network_leftovers();  // after a test that killed its daemon for good
}

std::string DaemonRoot::cgroup_parent() const {
    // As the daemon said it at its start; kept, for after `system reset`
    // took the root's state.
    if (auto said = sys::read_file(path() / "run/container/cgroup-parent"); said && !said->empty())
        cgroup_parent_ = said->substr(0, said->find('\n'));
    return cgroup_parent_;
}

std::vector<std::string> DaemonRoot::runtime_leftovers() const {
    std::vector<std::string> left;
    std::error_code ec;
    for (const auto& runtime : std::filesystem::directory_iterator(path() / "var/lib/container/plugins/runtime-linux/oci", ec))
        if (runtime.is_directory(ec))
            for (const auto& state : std::filesystem::directory_iterator(runtime.path(), ec)) left.push_back(state.path().string());
    // The container cgroups under the daemon's parent: in each v1 hierarchy,
    // or in the one unified hierarchy of a cgroup v2 host.
    const std::string parent = cgroup_parent();
    if (parent.empty()) return left;  // no daemon ever ran here
    for (const auto& place : sys::Cgroups().dirs(parent))
        for (const auto& cg : std::filesystem::directory_iterator(place, ec))
            if (cg.is_directory(ec)) left.push_back(cg.path().string());
    return left;
}

int DaemonRoot::release_network_leftovers() const {
    // A network plugin built from network-vmnet's code (network-vmnet, or the
    // tests' network-alt) names every bridge and veth it made in its state,
    // and its table is named after its state directory.
    int left = 0;
    std::error_code ec;
    for (const auto& plugin : std::filesystem::directory_iterator(path() / "var/lib/container/plugins", ec)) {
        auto dir = plugin.path();
        if (!std::filesystem::is_directory(dir / "networks", ec)) continue;
        for (const auto& f : std::filesystem::directory_iterator(dir / "networks", ec)) {
            auto text = sys::read_file(f.path());
            if (!text) continue;
            auto j = nlohmann::json::parse(*text, nullptr, false);
            if (!j.is_object()) continue;
            ++left;
            for (const auto& e : j.value("endpoints", nlohmann::json::array()))
                (void)sys::run_capture({"/usr/sbin/ip", "link", "del", e.value("host_link", "none")}, 10000);
            (void)sys::run_capture({"/usr/sbin/ip", "link", "del", j.value("bridge", "none")}, 10000);
            std::filesystem::remove(f.path(), ec);
        }
        // The plugin names its table in its state (nft-table).
        auto named = sys::read_file(dir / "nft-table");
        if (!named) continue;
        const std::string table = named->substr(0, named->find('\n'));
        auto listed = sys::run_capture({"/usr/sbin/nft", "list", "table", "ip", table}, 10000);
        if (listed && listed->status.code == 0 && !listed->status.signal) {
            ++left;
            (void)sys::run_capture({"/usr/sbin/nft", "delete", "table", "ip", table}, 10000);
        }
    }
    return left;
}

Run DaemonRoot::cli(const std::vector<std::string>& args, const std::vector<std::string>& env) const {
    std::vector<std::string> full = {"--root", root()};
    full.insert(full.end(), args.begin(), args.end());
    return run("host/container", full, env);
}

std::string DaemonRoot::daemon_log() const {
    auto text = sys::read_file(path() / "var/log/container/apiserver.log");
    return text ? *text : "";
}

std::string DaemonRoot::logs_when(const std::string& name, const std::string& want, int timeout_ms) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string out = cli({"logs", name}).out;
    while (out.find(want) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        out = cli({"logs", name}).out;
    }
    return out;
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
// Gone: every thread of it, with its fds (its listening socket) closed.
bool gone(int pid) { return sys::process_ended(pid); }
}  // namespace

void DaemonRoot::kill9() {
    int pid = daemon_pid();
    REQUIRE(pid > 0);
    ::kill(pid, SIGKILL);
    for (int i = 0; i < 500 && !gone(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(gone(pid));
}

std::string cgroup_file(int pid, const std::string& controller, const std::string& v1_file, const std::string& v2_file) {
    std::filesystem::path unified;
    for (const auto& m : sys::Cgroups().of(pid)) {
        if (m.controllers.empty()) unified = m.dir;
        if (("," + m.controllers + ",").find("," + controller + ",") != std::string::npos)
            if (auto t = sys::read_file(m.dir / v1_file)) return t->substr(0, t->find('\n'));
    }
    if (unified.empty()) return "";
    auto t = sys::read_file(unified / v2_file);
    return t ? t->substr(0, t->find('\n')) : "";
}

std::string http_get(const std::string& ip, int port) {
    sys::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval tv{5, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return "";
    std::string req = "GET / HTTP/1.0\r\nHost: x\r\n\r\n";
    if (::write(fd.get(), req.data(), req.size()) < 0) return "";
    std::string resp;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;) resp.append(buf, static_cast<size_t>(n));
    auto body = resp.find("\r\n\r\n");
    return body == std::string::npos ? "" : resp.substr(body + 4);
}

nlohmann::json inspect(const DaemonRoot& r, const std::string& name) {
    auto res = r.cli({"inspect", name});
    REQUIRE_MESSAGE(res.code == 0, res.err);
    return nlohmann::json::parse(res.out)[0];
}

int pid_of(const DaemonRoot& r, const std::string& name) {
    return std::stoi(r.cli({"inspect", "-f", "{{.State.Pid}}", name}).out);
}

std::string error_of(const DaemonRoot& r, const std::vector<std::string>& args) {
    auto res = r.cli(args);
    CHECK(res.code == 125);
    CHECK(std::count(res.err.begin(), res.err.end(), '\n') == 1);
    return res.err;
}

}  // namespace ctr::test
