// A VM container's cgroup (QEMU, virtiofsd and the proxy go where an OCI
// runtime would put the container's process), on real cgroup file systems:
// the cgroup2 tree this machine has (the one tree on a v2 host, the side
// mount at /sys/fs/cgroup/unified on a hybrid one), and v1's controllers.
// The names are unique to the test process and removed at the end.
#include "vm_cgroup.hpp"

#include <ctr/sys/spawn.hpp>
#include "tests/support/skip.hpp"

#include <doctest/doctest.h>

#include <linux/magic.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {

bool is_fs(const fs::path& p, long magic) {
    struct statfs s {};
    return ::statfs(p.c_str(), &s) == 0 && static_cast<long>(s.f_type) == magic;
}

// Where this machine mounts a cgroup2 tree; "" when it has none.
fs::path cgroup2_root() {
    if (is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC)) return "/sys/fs/cgroup";
    if (is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC)) return "/sys/fs/cgroup/unified";
    return {};
}

bool no_cgroup2_as_root() { return ctr::test::not_root() || cgroup2_root().empty(); }
bool no_v1_as_root() { return ctr::test::not_root() || !is_fs("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC); }

// `sleep 60`, killed and reaped when the object dies.
struct Sleeper {
    pid_t pid = -1;
    Sleeper() {
        auto p = ctr::sys::spawn({"/bin/sleep", "60"}, {});
        if (p) pid = *p;
    }
    ~Sleeper() {
        if (pid <= 0) return;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    void end() {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        pid = -1;
    }
};

std::string text_of(const fs::path& file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// The lines of /proc/PID/cgroup.
std::string cgroups_of(pid_t pid) { return text_of("/proc/" + std::to_string(pid) + "/cgroup"); }

}  // namespace

TEST_CASE("microvm VM cgroup on cgroup v2: made in the one tree, the VM's processes go in, removed after" *
          doctest::skip(no_cgroup2_as_root())) {
    const fs::path root = cgroup2_root();
    const std::string parent = "ctr-unit-vmcg-" + std::to_string(::getpid());
    const std::string path = "/" + parent + "/vm1";
    {
        auto cg = microvm::VmCgroup::create(path, root);
        REQUIRE_MESSAGE(cg, cg.error().message);
        REQUIRE(cg->dirs().size() == 1);  // one tree, not one per controller
        CHECK(cg->dirs()[0] == root / parent / "vm1");
        CHECK(fs::exists(root / parent / "vm1/cgroup.procs"));

        Sleeper qemu;
        REQUIRE(qemu.pid > 0);
        REQUIRE(cg->add(qemu.pid));
        CHECK(cgroups_of(qemu.pid).find("0::" + path + "\n") != std::string::npos);
        CHECK(text_of(root / parent / "vm1/cgroup.procs") == std::to_string(qemu.pid) + "\n");

        // Another process (the runtime's delete) finds it by path and removes it.
        auto found = microvm::VmCgroup::existing(path, root);
        CHECK(found.dirs() == cg->dirs());
        qemu.end();
        found.remove();
        CHECK_FALSE(fs::exists(root / parent / "vm1"));
        CHECK(found.dirs().empty());
    }
    // systemd's form names the directory runc and crun would make for the scope.
    {
        const std::string slice = "ctrunitvmcg" + std::to_string(::getpid()) + ".slice";  // no dash: a dash nests slices
        auto cg = microvm::VmCgroup::create(slice + ":ctr:vm2", root);
        REQUIRE_MESSAGE(cg, cg.error().message);
        REQUIRE(cg->dirs().size() == 1);
        CHECK(cg->dirs()[0] == root / slice / "ctr-vm2.scope");
        CHECK(fs::is_directory(root / slice / "ctr-vm2.scope"));
    }  // the object removes its directory as it goes
    const fs::path slice_dir = root / ("ctrunitvmcg" + std::to_string(::getpid()) + ".slice");
    CHECK_FALSE(fs::exists(slice_dir / "ctr-vm2.scope"));
    std::error_code ec;
    fs::remove(slice_dir, ec);
    CHECK_FALSE(fs::exists(slice_dir));
    fs::remove(root / parent, ec);
    CHECK_FALSE(fs::exists(root / parent));
}

TEST_CASE("microvm VM cgroup on cgroup v1: a directory in each controller stats reads, the VM's processes in each" *
          doctest::skip(no_v1_as_root())) {
    const fs::path root = "/sys/fs/cgroup";
    const std::string parent = "ctr-unit-vmcg-" + std::to_string(::getpid());
    const std::string path = "/" + parent + "/vm1";
    auto cg = microvm::VmCgroup::create(path, root);
    REQUIRE_MESSAGE(cg, cg.error().message);
    CHECK(cg->dirs().size() >= 2);  // memory and pids at least; cpu, cpuacct, blkio where mounted apart
    for (const auto& dir : cg->dirs()) CHECK(dir.filename() == "vm1");
    CHECK(std::find(cg->dirs().begin(), cg->dirs().end(), root / "memory" / parent / "vm1") != cg->dirs().end());
    CHECK(std::find(cg->dirs().begin(), cg->dirs().end(), root / "pids" / parent / "vm1") != cg->dirs().end());
    {
        Sleeper qemu;
        REQUIRE(qemu.pid > 0);
        REQUIRE(cg->add(qemu.pid));
        const std::string in = cgroups_of(qemu.pid);
        CHECK(in.find(":memory:" + path + "\n") != std::string::npos);
        CHECK(in.find(":pids:" + path + "\n") != std::string::npos);
    }
    const auto dirs = cg->dirs();
    cg->remove();
    std::error_code ec;
    for (const auto& dir : dirs) {
        CHECK_FALSE(fs::exists(dir));
        fs::remove(dir.parent_path(), ec);
        CHECK_FALSE(fs::exists(dir.parent_path()));
    }
}
