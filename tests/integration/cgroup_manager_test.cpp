// The cgroup manager (docs/cgroups.md). Where systemd is PID 1 and its bus
// answers (the suite's systemd guest), auto picks systemd: each container
// gets a transient scope in the root's slice, made by the runtime through
// systemd, its limits on the container's cgroup in it; the scope goes with
// `rm` and the slice with `system stop`. Elsewhere (this build machine, whose PID 1 is
// not systemd) auto picks cgroupfs, and asking for systemd is refused with
// a message that says why.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"
#include "tests/support/skip.hpp"

#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <thread>

using ctr::test::DaemonRoot;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string systemctl_show(const std::string& unit, const std::string& property) {
    auto r = ctr::sys::run_capture({ctr::sys::find_program("systemctl"), "show", "-p", property, "--value", unit}, 30000);
    return r ? trim(r->out) : "";
}

bool gone_within(const fs::path& dir, int ms) {
    for (int i = 0; i < ms / 50 && fs::exists(dir); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return !fs::exists(dir);
}

// A container in a scope of systemd's, its limits, stats and top; the scope
// gone with rm, the root's slice with system stop.
void systemd_scope_flow(DaemonRoot& r, const std::string& image, const std::string& runtime) {
    r.start();  // auto
    auto status = json::parse(r.cli({"system", "status", "--format", "json"}).out);
    REQUIRE(status["cgroup"].value("manager", "") == "systemd");
    auto run = r.cli({"run", "-d", "--name", "scoped", "-m", "32m", "--pids-limit", "30", image, "sleep", "300"});
    INFO(run.err);
    REQUIRE(run.code == 0);
    const std::string id = trim(r.cli({"inspect", "-f", "{{.Id}}", "scoped"}).out);
    const int pid = std::stoi(r.cli({"inspect", "-f", "{{.State.Pid}}", "scoped"}).out);
    // The runtime the config names holds it.
    CHECK(fs::exists(r.path() / "var/lib/container/plugins/runtime-linux/oci" / runtime / id));
    // Its scope, in the root's slice, which sits in container.slice (crun
    // puts the process in a child of the scope, which systemd delegates).
    auto cgroup = ctr::sys::read_file("/proc/" + std::to_string(pid) + "/cgroup");
    REQUIRE(cgroup);
    const std::string path = trim(cgroup->substr(3));
    INFO("cgroup " << path);
    const std::string unit = "container-" + id + ".scope";
    CHECK(path.rfind("/container.slice/container-", 0) == 0);
    const auto at = path.find("/" + unit);
    REQUIRE(at != std::string::npos);
    const std::string scope = path.substr(0, at + 1 + unit.size());
    CHECK(fs::path(scope).parent_path().string() == r.cgroup_parent());
    // systemd knows it. The limits are on the container's own cgroup (runc
    // sets them as the scope's properties; crun on the child it makes in
    // the scope, which systemd delegates to it).
    CHECK(systemctl_show(unit, "ActiveState") == "active");
    CHECK(systemctl_show(unit, "Delegate") == "yes");
    const fs::path dir = fs::path("/sys/fs/cgroup") / fs::path(scope).relative_path();
    const fs::path own = fs::path("/sys/fs/cgroup") / fs::path(path).relative_path();
    auto memory_max = ctr::sys::read_file(own / "memory.max");
    auto pids_max = ctr::sys::read_file(own / "pids.max");
    CHECK((memory_max && trim(*memory_max) == "33554432"));
    CHECK((pids_max && trim(*pids_max) == "30"));
    // stats and top read it as on any host.
    auto stats = json::parse(r.cli({"stats", "--no-stream", "--format", "json", "scoped"}).out);
    REQUIRE(stats.size() == 1);
    CHECK(stats[0]["memory"]["limit"] == 32 << 20);
    CHECK(stats[0]["pids"]["current"] == 1);
    CHECK(r.cli({"top", "scoped"}).out.find("sleep 300") != std::string::npos);
    // rm: the scope goes; system stop: the slice.
    REQUIRE(r.cli({"rm", "-f", "scoped"}).code == 0);
    CHECK(gone_within(dir, 10000));
    const fs::path slice = fs::path("/sys/fs/cgroup") / fs::path(r.cgroup_parent()).relative_path();
    REQUIRE(r.cli({"system", "stop"}).code == 0);
    CHECK(gone_within(slice, 10000));
    CHECK(systemctl_show(fs::path(r.cgroup_parent()).filename().string(), "ActiveState") != "active");
}

}  // namespace

TEST_CASE("cgroup manager: systemd's scopes where systemd runs, cgroupfs elsewhere, systemd refused by name where it cannot serve" *
          CTR_NEEDS_ROOT) {
    const std::string image = ctr::test::shared_busybox().image;
    if (!ctr::sys::systemd_manages_cgroups()) {
        DaemonRoot r;
        auto refused = r.cli({"system", "start", "--cgroup-manager", "systemd"});
        CHECK(refused.code != 0);
        CHECK(refused.err.find("cgroup manager systemd: systemd is not PID 1 here") != std::string::npos);
        CHECK(r.daemon_pid() == 0);  // nothing started half-way
        r.start();
        auto status = json::parse(r.cli({"system", "status", "--format", "json"}).out);
        CHECK(status["cgroup"].value("manager", "") == "cgroupfs");
        return;
    }
    // Both OCI runtimes: crun (a v2 host's default) and runc, which set the
    // limits differently (crun on a child cgroup of the scope, runc as the
    // scope's own properties).
    for (const std::string runtime : {"crun", "runc"}) {
        CAPTURE(runtime);
        DaemonRoot r;
        fs::create_directories(r.path() / "etc/container");
        REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml",
                                            "[plugins.runtime-linux]\noci_runtime = \"" + runtime + "\"\n"));
        systemd_scope_flow(r, image, runtime);
    }
}
