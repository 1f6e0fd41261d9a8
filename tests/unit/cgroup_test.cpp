// The cgroup reader on the three host layouts, over fake trees: where a
// process's cgroups are, what they use, who is in them, OOM kills, removal.
// The real kernel's files are read by the integration cases, on this
// machine (hybrid) and in the cgroup2-only guest (tests/guest/).
#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/files.hpp>
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>

using namespace ctr::sys;
namespace fs = std::filesystem;

namespace {

void put(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
}

}  // namespace

TEST_CASE("cgroups v2: one hierarchy; memory, pids, cpu and io from its files; members below; OOM kills") {
    ctr::test::ScratchDir d;
    fs::path root = d.path() / "cg", proc = d.path() / "proc";
    put(root / "cgroup.controllers", "cpuset cpu io memory pids\n");
    put(proc / "42/cgroup", "0::/ctr-x/c1\n");
    fs::path c1 = root / "ctr-x/c1";
    put(c1 / "memory.current", "1048576\n");
    put(c1 / "memory.max", "max\n");
    put(c1 / "pids.current", "3\n");
    put(c1 / "pids.max", "100\n");
    put(c1 / "cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n");
    put(c1 / "io.stat", "8:0 rbytes=100 wbytes=20 rios=1 wios=1\n8:16 rbytes=5 wbytes=1 rios=1 wios=1\n");
    put(c1 / "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
    put(c1 / "cgroup.procs", "42\n43\n");
    put(c1 / "sub/cgroup.procs", "44\n");

    Cgroups cg(root, proc);
    CHECK(cg.version() == CgroupVersion::v2);
    CHECK(cg.v2_controllers() == "cpuset cpu io memory pids");
    auto m = cg.of(42);
    REQUIRE(m.size() == 1);
    CHECK(m[0].controllers.empty());
    CHECK(m[0].dir == c1);
    auto u = cg.usage(42);
    CHECK(u.memory_usage == 1048576);
    CHECK(u.memory_limit == -1);
    CHECK(u.pids_current == 3);
    CHECK(u.pids_limit == 100);
    CHECK(u.cpu_ns == 2500000);
    CHECK(u.io_read_bytes == 105);
    CHECK(u.io_write_bytes == 21);
    CHECK(cg.oom_kills(42) == 1);
    CHECK(cg.members(42) == std::set<pid_t>{42, 43, 44});
    CHECK(cg.dirs("/ctr-x") == std::vector<fs::path>{root / "ctr-x"});
    CHECK(cg.oom_kills(7) == 0);  // no such process
    CHECK(cg.usage(7).memory_usage == std::nullopt);
}

TEST_CASE("cgroups v1 and hybrid: a hierarchy per controller, v1's 'no limit', the unified one for what v1 lacks") {
    ctr::test::ScratchDir d;
    fs::path root = d.path() / "cg", proc = d.path() / "proc";
    put(root / "unified/cgroup.controllers", "hugetlb\n");
    fs::create_directories(root / "cpu,cpuacct");
    fs::create_directory_symlink("cpu,cpuacct", root / "cpu");
    put(proc / "42/cgroup", "12:pids:/p/c1\n9:memory:/p/c1\n4:cpu,cpuacct:/p/c1\n3:blkio:/p/c1\n1:name=systemd:/\n0::/p/c1\n");
    put(root / "memory/p/c1/memory.usage_in_bytes", "4096\n");
    put(root / "memory/p/c1/memory.limit_in_bytes", "9223372036854771712\n");
    put(root / "memory/p/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    put(root / "pids/p/c1/pids.current", "1\n");
    put(root / "pids/p/c1/pids.max", "max\n");
    put(root / "pids/p/c1/cgroup.procs", "42\n");
    put(root / "cpu,cpuacct/p/c1/cpuacct.usage", "777\n");
    put(root / "blkio/p/c1/blkio.throttle.io_service_bytes", "8:0 Read 10\n8:0 Write 3\n8:0 Sync 13\nTotal 13\n");
    put(root / "unified/p/c1/cpu.stat", "usage_usec 1\n");  // v1's cpuacct wins
    put(root / "unified/p/c1/cgroup.procs", "42\n");
    fs::create_directories(root / "systemd");

    Cgroups cg(root, proc);
    CHECK(cg.version() == CgroupVersion::hybrid);
    CHECK(cg.v2_controllers() == "hugetlb");
    auto u = cg.usage(42);
    CHECK(u.memory_usage == 4096);
    CHECK(u.memory_limit == -1);
    CHECK(u.pids_current == 1);
    CHECK(u.pids_limit == -1);
    CHECK(u.cpu_ns == 777);
    CHECK(u.io_read_bytes == 10);
    CHECK(u.io_write_bytes == 3);
    CHECK(cg.oom_kills(42) == 2);
    CHECK(cg.members(42) == std::set<pid_t>{42});

    // Removal: every hierarchy's directory, not through the cpu link twice;
    // not while a process is in it.
    auto dirs = cg.dirs("/p");
    CHECK(std::find(dirs.begin(), dirs.end(), root / "cpu/p") == dirs.end());
    CHECK(std::find(dirs.begin(), dirs.end(), root / "unified/p") != dirs.end());
    CHECK(std::find(dirs.begin(), dirs.end(), root / "memory/p") != dirs.end());

    fs::remove(root / "unified/cgroup.controllers");
    CHECK(cg.version() == CgroupVersion::v1);
    CHECK(cg.v2_controllers().empty());
}

TEST_CASE("a process follows another into its cgroups, and goes back: the hierarchies where that one is below the root") {
    ctr::test::ScratchDir d;
    fs::path root = d.path() / "cg", proc = d.path() / "proc";
    put(root / "unified/cgroup.controllers", "hugetlb\n");
    put(proc / "42/cgroup", "9:memory:/p/c1\n4:pids:/p/c1\n1:name=systemd:/\n0::/p/c1\n");
    put(proc / "7/cgroup", "9:memory:/engine\n4:pids:/engine\n1:name=systemd:/\n0::/engine\n");
    for (const char* h : {"memory", "pids", "unified"}) {
        put(root / h / "p/c1/cgroup.procs", "");
        put(root / h / "engine/cgroup.procs", "");
    }
    Cgroups cg(root, proc);
    auto theirs = cg.of(42);
    REQUIRE(theirs.size() == 4);
    CHECK(theirs[2].controllers == "name=systemd");
    CHECK(theirs[2].hierarchy_root);
    CHECK_FALSE(theirs[0].hierarchy_root);
    theirs.erase(theirs.begin() + 2);  // as the monitor does: not into a root
    CHECK(cg.enter(7, theirs));
    for (const char* h : {"memory", "pids", "unified"}) CHECK(*read_file(root / h / "p/c1/cgroup.procs") == "7");
    CHECK_FALSE(fs::exists(root / "systemd/cgroup.procs"));
    // Back: the same call with where it was.
    auto home = cg.of(7);
    home.erase(home.begin() + 2);
    CHECK(cg.enter(7, home));
    CHECK(*read_file(root / "memory/engine/cgroup.procs") == "7");
    // A cgroup that is not there: the first failure is said, the rest tried.
    fs::remove_all(root / "pids/p");
    auto missing = cg.enter(8, theirs);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("pids/p/c1") != std::string::npos);
    CHECK(*read_file(root / "unified/p/c1/cgroup.procs") == "8");
}

TEST_CASE("cgroup removal goes leaves first and stops at a cgroup with a process") {
    ctr::test::ScratchDir d;
    fs::path root = d.path() / "cg";
    fs::create_directories(root / "memory/p/a/deeper");
    fs::create_directories(root / "pids/p/b");
    Cgroups cg(root, d.path() / "proc");
    CHECK(cg.remove("/p"));
    CHECK_FALSE(fs::exists(root / "memory/p"));
    CHECK_FALSE(fs::exists(root / "pids/p"));
    CHECK(cg.remove("/p"));  // nothing left: done

    // A plain directory with a file stands for a cgroup with a process: rmdir refuses.
    put(root / "pids/q/busy/cgroup.procs", "42\n");
    fs::create_directories(root / "memory/q");
    CHECK_FALSE(cg.remove("/q"));
    CHECK(fs::exists(root / "pids/q/busy"));
    CHECK_FALSE(fs::exists(root / "memory/q"));
}

TEST_CASE("systemd's cgroupsPath form names the directory runc and crun make") {
    using ctr::sys::systemd_cgroup_dir;
    CHECK(systemd_cgroup_dir("system.slice:docker:abc") == "/system.slice/docker-abc.scope");
    CHECK(systemd_cgroup_dir("container-12.slice:container:id1") == "/container.slice/container-12.slice/container-id1.scope");
    CHECK(systemd_cgroup_dir("a-b-c.slice::x") == "/a.slice/a-b.slice/a-b-c.slice/x.scope");
    // Not that form: a cgroupfs path, a missing field, a slice that is not one.
    CHECK(systemd_cgroup_dir("/container-12/id1").empty());
    CHECK(systemd_cgroup_dir("system.slice:docker").empty());
    CHECK(systemd_cgroup_dir("system:docker:abc").empty());
    CHECK(systemd_cgroup_dir("system.slice:docker:").empty());
    // A slice alone: the per-root parent the daemon removes.
    CHECK(ctr::sys::systemd_slice_dir("container-12.slice") == "/container.slice/container-12.slice");
    CHECK(ctr::sys::systemd_slice_dir("system.slice") == "/system.slice");
    CHECK(ctr::sys::systemd_slice_dir("container-12").empty());
}
