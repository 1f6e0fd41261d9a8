// pause, unpause and update (runtime ABI 1.2) through the CLI and the
// Docker API, checked in the kernel: the freezer's process state, the
// container's cgroup limits.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include "tests/support/skip.hpp"
#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/files.hpp>
#include <doctest/doctest.h>

#include <sstream>

using ctr::test::DaemonRoot;
using ctr::test::cgroup_file;
using nlohmann::json;

namespace {

// Frozen, as the kernel says it: v1's freezer.state, v2's cgroup.events
// (whose frozen tasks sleep in S, not D).
bool frozen(int pid) {
    for (const auto& m : ctr::sys::Cgroups().of(pid)) {
        if (m.controllers == "freezer")
            if (auto t = ctr::sys::read_file(m.dir / "freezer.state")) return t->rfind("FROZEN", 0) == 0;
        if (m.controllers.empty() && ctr::sys::cgroup_key(m.dir / "cgroup.events", "frozen") == 1) return true;
    }
    return false;
}

using ctr::test::pid_of;

}  // namespace

TEST_CASE("pause freezes a container's processes and unpause thaws them; exec waits for unpause" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "frozen", ctr::test::shared_busybox().image, "sh", "-c", "while :; do sleep 1; done"}).code == 0);
    const int pid = pid_of(r, "frozen");
    auto paused = r.cli({"pause", "frozen"});
    CHECK_MESSAGE(paused.code == 0, paused.err);
    CHECK(paused.out == "frozen\n");
    CHECK(frozen(pid));
    CHECK(r.cli({"inspect", "-f", "{{.State.Status}} {{.State.Paused}} {{.paused}}", "frozen"}).out == "paused true true\n");
    CHECK(r.cli({"ps", "--filter", "status=paused", "--format", "{{.Names}} {{.State}}"}).out == "frozen paused\n");
    CHECK(r.cli({"ps", "--format", "{{.Status}}"}).out.find("(Paused)") != std::string::npos);
    auto again = r.cli({"pause", "frozen"});
    CHECK(again.code == 125);
    CHECK(again.err == "container: container frozen is paused already\n");
    auto exec = r.cli({"exec", "frozen", "true"});
    CHECK(exec.code == 125);
    CHECK(exec.err.find("is paused: unpause it before exec") != std::string::npos);
    CHECK(r.cli({"unpause", "frozen"}).code == 0);
    CHECK_FALSE(frozen(pid));
    CHECK(r.cli({"exec", "frozen", "true"}).code == 0);
    auto not_paused = r.cli({"unpause", "frozen"});
    CHECK(not_paused.code == 125);
    CHECK(not_paused.err == "container: container frozen is not paused\n");
    // Events for both, and a stop of a paused container ends it.
    auto events = r.cli({"events", "--since", "1m", "--until", "0s", "--filter", "container=frozen", "--format", "{{.Action}}"}).out;
    CHECK(events.find("pause\nunpause\n") != std::string::npos);
    REQUIRE(r.cli({"pause", "frozen"}).code == 0);
    CHECK(r.cli({"stop", "-t", "1", "frozen"}).code == 0);
    CHECK(r.cli({"inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "frozen"}).out == "exited false\n");
    auto stopped = r.cli({"pause", "frozen"});
    CHECK(stopped.code == 125);
    CHECK(stopped.err.find("frozen is not running") != std::string::npos);

    // The example runtime says it cannot.
    REQUIRE(r.cli({"run", "-d", "--name", "plain", "--runtime", "example", ctr::test::shared_busybox().image, "sleep", "600"}).code == 0);
    auto unsupported = r.cli({"pause", "plain"});
    CHECK(unsupported.code == 125);
    CHECK(unsupported.err.find("the example runtime cannot pause") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "frozen", "plain"}).code == 0);
}

TEST_CASE("update changes a running container's limits at once and keeps them for its next start" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "svc", "-m", "64m", ctr::test::shared_busybox().image, "sleep", "600"}).code == 0);
    auto updated = r.cli({"update", "-m", "96m", "--pids-limit", "30", "--cpu-shares", "256", "--restart", "on-failure:3", "svc"});
    CHECK_MESSAGE(updated.code == 0, updated.err);
    CHECK(updated.out == "svc\n");
    int pid = pid_of(r, "svc");
    CHECK(cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max") == std::to_string(96 << 20));
    CHECK(cgroup_file(pid, "pids", "pids.max", "pids.max") == "30");
    CHECK(r.cli({"inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", "svc"}).out ==
          "on-failure:3\n");
    // Kept: the next start has them.
    REQUIRE(r.cli({"restart", "-t", "0", "svc"}).code == 0);
    pid = pid_of(r, "svc");
    CHECK(cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max") == std::to_string(96 << 20));
    CHECK(cgroup_file(pid, "pids", "pids.max", "pids.max") == "30");
    // Through the Docker API too.
    REQUIRE_FALSE(ctr::test::docker_cli().empty());
    auto docker = ctr::test::run(ctr::test::docker_cli(), {"update", "--memory", "128m", "svc"},
                                 {"DOCKER_HOST=unix://" + (r.path() / "run/container/docker.sock").string()});
    CHECK_MESSAGE(docker.code == 0, docker.err);
    CHECK(cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max") == std::to_string(128 << 20));
    auto docker_pause = ctr::test::run(ctr::test::docker_cli(), {"pause", "svc"},
                                       {"DOCKER_HOST=unix://" + (r.path() / "run/container/docker.sock").string()});
    CHECK_MESSAGE(docker_pause.code == 0, docker_pause.err);
    CHECK(r.cli({"inspect", "-f", "{{.State.Paused}}", "svc"}).out == "true\n");
    CHECK(r.cli({"unpause", "svc"}).code == 0);

    auto nothing = r.cli({"update", "svc"});
    CHECK(nothing.code == 125);
    CHECK(nothing.err.find("give at least one of") != std::string::npos);
    auto small = r.cli({"update", "-m", "1m", "svc"});
    CHECK(small.code == 125);
    CHECK(small.err.find("minimum is 6 MiB") != std::string::npos);
    auto policy = r.cli({"update", "--restart", "sometimes", "svc"});
    CHECK(policy.code == 125);
    CHECK(policy.err.find("--restart \"sometimes\"") != std::string::npos);
    CHECK(cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max") == std::to_string(128 << 20));  // untouched
    CHECK(r.cli({"rm", "-f", "svc"}).code == 0);
}
