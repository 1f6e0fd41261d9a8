// run's finer controls (services/tuning.hpp), checked where the kernel
// keeps them: the container's cgroups, its /proc entries, its namespaces.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include "tests/support/skip.hpp"
#include "tests/support/tempdir.hpp"
#include <ctr/sys/files.hpp>
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using ctr::test::DaemonRoot;
using ctr::test::cgroup_file;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

using ctr::test::pid_of;
using ctr::test::error_of;

}  // namespace

TEST_CASE("run's finer controls reach the kernel: memory reservation and swap, CPU shares and set, OOM score, groups" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto made = r.cli({"run", "-d", "--name", "t", "-m", "64m", "--memory-reservation", "32m", "--memory-swap", "128m", "--cpu-shares", "512",
                       "--cpuset-cpus", "0", "--oom-score-adj", "300", "--group-add", "1234", "--group-add", "staff",
                       "--annotation", "org.example.team=core", ctr::test::shared_busybox().image, "sleep", "600"});
    REQUIRE_MESSAGE(made.code == 0, made.err);
    const int pid = pid_of(r, "t");
    CHECK(trimmed(ctr::test::file_text("/proc/" + std::to_string(pid) + "/oom_score_adj")) == "300");
    const std::string status = ctr::test::file_text("/proc/" + std::to_string(pid) + "/status");
    const std::string groups = status.substr(status.find("Groups:"), status.find('\n', status.find("Groups:")) - status.find("Groups:"));
    CHECK(groups.find("1234") != std::string::npos);
    CHECK(groups.find("50") != std::string::npos);  // staff, from the image's /etc/group
    CHECK(cgroup_file(pid, "memory", "memory.soft_limit_in_bytes", "memory.low") == std::to_string(32 << 20));
    const std::string swap = cgroup_file(pid, "memory", "memory.memsw.limit_in_bytes", "memory.swap.max");
    CHECK((swap == std::to_string(128 << 20) || swap == std::to_string(64 << 20)));  // v1: memory+swap; v2: swap alone
    const std::string shares = cgroup_file(pid, "cpu", "cpu.shares", "cpu.weight");
    CHECK((shares == "512" || shares == "20"));  // v2: weight 1 + (512-2)*9999/262142
    CHECK(cgroup_file(pid, "cpuset", "cpuset.cpus", "cpuset.cpus") == "0");
    const std::string id = trimmed(r.cli({"inspect", "-f", "{{.Id}}", "t"}).out);
    auto spec = json::parse(ctr::test::file_text(r.path() / "var/lib/container/containers" / id / "config.json"));
    CHECK(spec["annotations"]["org.example.team"] == "core");
    CHECK(r.cli({"rm", "-f", "t"}).code == 0);

    // The Docker API's HostConfig fields reach the same controls.
    const std::string image = ctr::test::shared_busybox().image;
    REQUIRE_FALSE(ctr::test::docker_cli().empty());
    auto docker = ctr::test::run(ctr::test::docker_cli(), {"run", "--rm", "--oom-score-adj", "200", "--group-add", "1234", image, "sh", "-c",
                                                     "cat /proc/self/oom_score_adj; id -G"},
                                 {"DOCKER_HOST=unix://" + (r.path() / "run/container/docker.sock").string()});
    CHECK_MESSAGE(docker.code == 0, docker.err);
    CHECK(docker.out == "200\n0 1234\n");

    CHECK(error_of(r, {"run", "--cpu-shares", "1", image, "true"}).find("--cpu-shares \"1\": want 2 to 262144") != std::string::npos);
    CHECK(error_of(r, {"run", "--oom-score-adj", "5000", image, "true"}).find("--oom-score-adj \"5000\"") != std::string::npos);
    CHECK(error_of(r, {"run", "--oom-score-adj", "high", image, "true"}).find("--oom-score-adj \"high\"") != std::string::npos);
    CHECK(error_of(r, {"run", "--memory-swap", "1g", image, "true"}).find("needs --memory") != std::string::npos);
    CHECK(error_of(r, {"run", "-m", "64m", "--memory-swap", "32m", image, "true"}).find("must not be below --memory") != std::string::npos);
    CHECK(error_of(r, {"run", "-m", "64m", "--memory-reservation", "1g", image, "true"}).find("must not be above --memory") != std::string::npos);
    CHECK(error_of(r, {"run", "--cpuset-cpus", "one", image, "true"}).find("--cpuset-cpus \"one\"") != std::string::npos);
    CHECK(error_of(r, {"run", "--group-add", "wheel", image, "true"}).find("--group-add \"wheel\": no such group") != std::string::npos);
    CHECK(error_of(r, {"run", "--annotation", "novalue", image, "true"}).find("--annotation: \"novalue\"") != std::string::npos);
    CHECK(r.cli({"ps", "-aq"}).out.empty());  // nothing half made
}

TEST_CASE("--pid, --ipc and --uts share the host's namespaces or another container's" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const std::string image = ctr::test::shared_busybox().image;
    REQUIRE(r.cli({"run", "-d", "--name", "base", image, "sleep", "600"}).code == 0);
    auto ps = r.cli({"run", "--rm", "--pid", "container:base", image, "ps"});
    CHECK_MESSAGE(ps.code == 0, ps.err);
    CHECK(ps.out.find("sleep 600") != std::string::npos);
    auto ns = [&](const std::vector<std::string>& flags) {
        std::vector<std::string> args = {"run", "--rm"};
        args.insert(args.end(), flags.begin(), flags.end());
        args.insert(args.end(), {image, "ls", "-l", "/proc/self/ns/ipc"});
        auto out = r.cli(args).out;
        return trimmed(out.substr(out.find("-> ") + 3));
    };
    const int base = pid_of(r, "base");
    CHECK(ns({"--ipc", "container:base"}) == fs::read_symlink("/proc/" + std::to_string(base) + "/ns/ipc").string());
    CHECK(ns({"--ipc", "host"}) == fs::read_symlink("/proc/self/ns/ipc").string());
    CHECK(ns({}) != fs::read_symlink("/proc/self/ns/ipc").string());
    CHECK(trimmed(r.cli({"run", "--rm", "--pid", "host", image, "cat", "/proc/1/comm"}).out) == trimmed(ctr::test::file_text("/proc/1/comm")));
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    CHECK(trimmed(r.cli({"run", "--rm", "--uts", "host", image, "sh", "-c", "hostname; cat /etc/hostname; echo $HOSTNAME"}).out) ==
          std::string(host) + "\n" + host + "\n" + host);

    // The join is made at each start, with the other container's process of the moment.
    REQUIRE(r.cli({"create", "--name", "joiner", "--pid", "container:base", image, "ps"}).code == 0);
    REQUIRE(r.cli({"stop", "-t", "0", "base"}).code == 0);
    auto refused = r.cli({"start", "-a", "joiner"});
    CHECK(refused.code == 125);
    CHECK(refused.err.find("--pid container:base: base is not running") != std::string::npos);
    REQUIRE(r.cli({"start", "base"}).code == 0);
    auto joined = r.cli({"start", "-a", "joiner"});
    CHECK(joined.code == 0);
    CHECK(joined.out.find("sleep 600") != std::string::npos);

    CHECK(error_of(r, {"run", "--pid", "container:nothing", image, "true"}).find("no such container: nothing") != std::string::npos);
    CHECK(error_of(r, {"run", "--pid", "sideways", image, "true"}).find("--pid \"sideways\": want host or container:NAME") != std::string::npos);
    CHECK(error_of(r, {"run", "--uts", "container:base", image, "true"}).find("--uts \"container:base\": want host") != std::string::npos);
    CHECK(error_of(r, {"run", "--uts", "host", "--hostname", "x", image, "true"}).find("cannot have --hostname") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "base", "joiner"}).code == 0);
}

TEST_CASE("--volumes-from gives a container another's volumes and binds, anonymous ones too" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const std::string image = ctr::test::shared_busybox().image;
    ctr::test::ScratchDir host;
    REQUIRE(ctr::sys::write_file_atomic(host.path() / "from-host", "host\n"));
    REQUIRE(r.cli({"run", "--name", "data", "-v", "/anon", "-v", "named:/named", "-v", host.path().string() + ":/bind:ro", image, "sh", "-c",
                   "echo a > /anon/f && echo n > /named/f"})
                .code == 0);
    auto both = r.cli({"run", "--rm", "--volumes-from", "data", image, "sh", "-c", "cat /anon/f /named/f /bind/from-host; echo x > /anon/g && echo wrote"});
    CHECK_MESSAGE(both.code == 0, both.err);
    CHECK(both.out == "a\nn\nhost\nwrote\n");
    // The writes landed in the same volume: the first container sees them.
    REQUIRE(r.cli({"start", "-a", "data"}).code == 0);
    CHECK(r.cli({"run", "--rm", "--volumes-from", "data", image, "cat", "/anon/g"}).out == "x\n");
    // :ro makes every one read-only; the bind stays read-only either way.
    auto ro = r.cli({"run", "--rm", "--volumes-from", "data:ro", image, "sh", "-c", "echo y > /named/g"});
    CHECK(ro.code != 0);
    CHECK(ro.err.find("Read-only file system") != std::string::npos);
    // A -v of its own at the same place wins.
    CHECK(r.cli({"run", "--rm", "--volumes-from", "data", "-v", "/named", image, "ls", "/named"}).out == "");
    // The anonymous volume is in use while a container made with it exists.
    REQUIRE(r.cli({"create", "--name", "user", "--volumes-from", "data", image, "true"}).code == 0);
    CHECK(r.cli({"rm", "-v", "data"}).code == 0);
    CHECK(r.cli({"start", "-a", "user"}).code == 0);
    CHECK(r.cli({"run", "--rm", "--volumes-from", "user", image, "cat", "/anon/g"}).out == "x\n");
    // The docker CLI's HostConfig.VolumesFrom means the same.
    REQUIRE_FALSE(ctr::test::docker_cli().empty());
    auto docker = ctr::test::run(ctr::test::docker_cli(), {"run", "--rm", "--volumes-from", "user:ro", image, "cat", "/anon/g"},
                                 {"DOCKER_HOST=unix://" + (r.path() / "run/container/docker.sock").string()});
    CHECK_MESSAGE(docker.code == 0, docker.err);
    CHECK(docker.out == "x\n");

    for (const auto& [from, says] : std::vector<std::pair<std::string, std::string>>{
             {"nope", "--volumes-from nope: no such container: nope"},
             {"user:rx", "--volumes-from \"user:rx\": it must be CONTAINER, CONTAINER:ro or CONTAINER:rw"}}) {
        auto bad = r.cli({"run", "--rm", "--volumes-from", from, image, "true"});
        CHECK(bad.code == 125);
        CHECK_MESSAGE(bad.err.find(says) != std::string::npos, bad.err);
    }
    CHECK(r.cli({"rm", "-f", "user"}).code == 0);
}
