// Escape attempts from reliability-and-security.md §3 and the bad-input rows
// 35–43 and 50 of §5, against real containers.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include <ctr/sys/files.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

using ctr::test::DaemonRoot;
using ctr::test::Registry;
using ctr::test::ScratchDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Images {
    Registry registry;
    ScratchDir work;
    std::string plain, proc_link, not_exec;
    Images() {
        plain = registry.host() + "/sec/plain:1";
        ctr::test::build_and_push(work, ctr::test::kBusyboxImage, "docker://" + plain);
        // /proc is a symlink to somewhere else (CVE-2019-19921 and friends).
        proc_link = registry.host() + "/sec/proclink:1";
        ctr::test::build_and_push(work, {ctr::test::kBusyboxImage[0] + " && rm -rf proc && ln -s /tmp proc"}, "docker://" + proc_link);
        // A program without the execute bit.
        not_exec = registry.host() + "/sec/notexec:1";
        ctr::test::build_and_push(work, {ctr::test::kBusyboxImage[0] + " && printf '#!/bin/sh\\necho hi\\n' > bin/script && chmod 0644 bin/script"},
                                  "docker://" + not_exec);
    }
};

Images& images() {
    static Images i;
    return i;
}

}  // namespace

TEST_CASE("no host file descriptor reaches the container (CVE-2024-21626 class)") {
    if (geteuid() != 0) return;
    DaemonRoot r;
    // sh stays PID 1 (the command is not its last), and holds its stdio and nothing else.
    auto fds = r.cli({"run", "--rm", images().plain, "sh", "-c", "ls /proc/1/fd; true"});
    REQUIRE(fds.code == 0);
    CHECK(fds.out == "0\n1\n2\n");
    // The same for a process started by exec.
    REQUIRE(r.cli({"run", "-d", "--name", "fdscan", images().plain, "sleep", "60"}).code == 0);
    CHECK(r.cli({"exec", "fdscan", "sh", "-c", "ls /proc/1/fd; true"}).out == "0\n1\n2\n");
    CHECK(r.cli({"rm", "-f", "fdscan"}).code == 0);
}

TEST_CASE("a working directory through /proc/self/fd or a relative one is refused or stays inside") {
    if (geteuid() != 0) return;
    DaemonRoot r;
    for (int fd = 3; fd < 8; ++fd) {
        auto res = r.cli({"run", "--rm", "-w", "/proc/self/fd/" + std::to_string(fd), images().plain, "pwd"});
        CAPTURE(fd);
        // Either the runtime refuses it, or the process runs inside the container.
        if (res.code == 0) CHECK(res.out.find(r.root()) == std::string::npos);
        else CHECK(res.err.find("chdir") != std::string::npos);
    }
    auto rel = r.cli({"run", "--rm", "-w", "relative/dir", images().plain, "pwd"});
    CHECK(rel.code == 125);
    CHECK(rel.err.find("workdir must be an absolute path") != std::string::npos);
}

TEST_CASE("an image whose /proc is a symlink cannot redirect the proc mount") {
    if (geteuid() != 0) return;
    DaemonRoot r;
    auto res = r.cli({"run", "--rm", images().proc_link, "sh", "-c", "cat /proc/self/status | head -1"});
    // crun refuses it, or mounts procfs inside the container, never on the host's /tmp.
    if (res.code == 0) CHECK(res.out.find("Name:") == 0);
    else CHECK(res.code == 125);
    CHECK_FALSE(fs::exists("/tmp/self/status"));
}

TEST_CASE("state directories are not open to other users (CVE-2021-41091)") {
    if (geteuid() != 0) return;
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "s", images().plain, "sleep", "60"}).code == 0);
    for (const char* dir : {"var/lib/container", "run/container", "var/log/container"}) {
        CAPTURE(dir);
        struct stat st {};
        REQUIRE(::stat((r.path() / dir).c_str(), &st) == 0);
        CHECK((st.st_mode & 0077) == 0);
    }
    CHECK(r.cli({"rm", "-f", "s"}).code == 0);
}

TEST_CASE("bad input: names, sizes, limits, programs, double starts (rows 35-43, 50)") {
    if (geteuid() != 0) return;
    DaemonRoot r;
    const std::string& img = images().plain;
    for (const char* name : {".", "..", "a/b", "-x", "with space"}) {
        CAPTURE(name);
        auto res = r.cli({"run", "--name", name, img, "true"});
        CHECK(res.code == 125);
        CHECK(res.err.find("invalid container name") != std::string::npos);
    }
    for (const char* mem : {"-1", "12XB", "1e30", "abc"}) {
        CAPTURE(mem);
        CHECK(r.cli({"run", "--rm", "--memory", mem, img, "true"}).code == 125);
    }
    auto tiny = r.cli({"run", "--rm", "--memory", "1k", img, "true"});
    CHECK(tiny.code == 125);
    CHECK(tiny.err.find("minimum is 6 MiB") != std::string::npos);
    CHECK(r.cli({"run", "--rm", "--cpus", "-1", img, "true"}).code == 125);
    CHECK(r.cli({"run", "--rm", "--pids-limit", "-5", img, "true"}).code == 125);
    auto noexec = r.cli({"run", "--rm", images().not_exec, "/bin/script"});
    CHECK(noexec.code == 126);
    auto missing = r.cli({"run", "--rm", img, "/no/such"});
    CHECK(missing.code == 127);
    CHECK(r.cli({"run", "--rm", "-v", "v:/proc", img, "true"}).code == 125);

    REQUIRE(r.cli({"run", "-d", "--name", "twice", img, "sleep", "60"}).code == 0);
    auto again = r.cli({"start", "twice"});
    CHECK(again.code == 125);
    CHECK(again.err.find("already running") != std::string::npos);
    CHECK(r.cli({"stop", "-t", "0", "twice"}).code == 0);
    CHECK(r.cli({"stop", "twice"}).code == 0);   // stopping a stopped container changes nothing
    CHECK(r.cli({"kill", "twice"}).code == 125); // killing one is an error, with no effect
    CHECK(r.cli({"rm", "twice"}).code == 0);
    CHECK(r.cli({"ls", "-a", "-q"}).out.empty());  // nothing half-made from the failures above
}
