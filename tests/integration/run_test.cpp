// `container run` and the container lifecycle, end to end: a real registry,
// the daemon, a shim per container, runtime-linux on crun (and the example
// runtime), on throwaway roots.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/files.hpp>

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <cmath>
#include <csignal>
#include <future>
#include <regex>
#include <sys/resource.h>
#include <unistd.h>

using ctr::test::DaemonRoot;
using ctr::test::Registry;
using ctr::test::ScratchDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// One registry and one busybox image for every test in this file.

}  // namespace

TEST_CASE("run pulls a missing image, shows stdout and stderr apart, and exits with the container's code" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto res = r.cli({"run", "--rm", "--progress", "plain", ctr::test::shared_busybox().image, "sh", "-c", "echo out; echo err >&2; exit 3"});
    CHECK(res.code == 3);
    CHECK(res.out == "out\n");
    CHECK(res.err.find("err\n") != std::string::npos);
    CHECK(res.err.find("Unable to find image") != std::string::npos);
    CHECK(res.err.find(": done") != std::string::npos);
    // --rm left nothing: no record, no directory, no mount.
    CHECK(r.cli({"ls", "-a", "-q"}).out.empty());
    CHECK(fs::is_empty(r.path() / "var/lib/container/containers"));
    CHECK(ScratchDir::mounts_below(r.path()).empty());
}

TEST_CASE("run applies the image config and the flags: env, workdir, user, hostname, entrypoint" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto env = r.cli({"run", "--rm", "-e", "GREETING=hi", "-e", "PATH=/bin", ctr::test::shared_busybox().image, "sh", "-c", "echo $GREETING $PATH"});
    CHECK(env.out == "hi /bin\n");
    CHECK(r.cli({"run", "--rm", "-w", "/tmp", ctr::test::shared_busybox().image, "pwd"}).out == "/tmp\n");
    CHECK(r.cli({"run", "--rm", "-u", "app", ctr::test::shared_busybox().image, "id"}).out.find("uid=1000(app) gid=1000") == 0);
    CHECK(r.cli({"run", "--rm", "-u", "1000:50", ctr::test::shared_busybox().image, "id"}).out.find("uid=1000(app) gid=50(staff)") == 0);
    CHECK(r.cli({"run", "--rm", "--hostname", "box", ctr::test::shared_busybox().image, "hostname"}).out == "box\n");
    CHECK(r.cli({"run", "--rm", "--entrypoint", "echo", ctr::test::shared_busybox().image, "from", "entrypoint"}).out == "from entrypoint\n");
    CHECK(r.cli({"run", "--rm", ctr::test::shared_busybox().image, "sh", "-c", "echo $$"}).out == "1\n");  // its own PID namespace
    // The image's own command (/bin/sh) runs when none is given: with no stdin it exits 0.
    CHECK(r.cli({"run", "--rm", ctr::test::shared_busybox().image}).code == 0);
    auto bad_user = r.cli({"run", "--rm", "-u", "nobody-here", ctr::test::shared_busybox().image, "id"});
    CHECK(bad_user.code == 125);
    CHECK(bad_user.err.find("user \"nobody-here\" not found in the image's /etc/passwd") != std::string::npos);
}

TEST_CASE("secure defaults: no inheritable or ambient capabilities, no new privileges, masked paths, seccomp" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto status = r.cli({"run", "--rm", ctr::test::shared_busybox().image, "cat", "/proc/self/status"});
    REQUIRE(status.code == 0);
    CHECK(status.out.find("CapInh:\t0000000000000000") != std::string::npos);
    CHECK(status.out.find("CapAmb:\t0000000000000000") != std::string::npos);
    CHECK(status.out.find("NoNewPrivs:\t1") != std::string::npos);
    auto keys = r.cli({"run", "--rm", ctr::test::shared_busybox().image, "cat", "/proc/keys"});
    CHECK(keys.out.empty());  // masked by /dev/null
    auto sys_rq = r.cli({"run", "--rm", ctr::test::shared_busybox().image, "sh", "-c", "echo x > /proc/sysrq-trigger"});
    CHECK(sys_rq.code != 0);  // read-only
    CHECK(status.out.find("Seccomp:\t2") != std::string::npos);  // a filter is on
    // swapoff is refused by seccomp even with CAP_SYS_ADMIN (EPERM, not ENOENT).
    auto swap = r.cli({"run", "--rm", "--cap-add", "SYS_ADMIN", ctr::test::shared_busybox().image, "sh", "-c", "swapoff /nonexistent"});
    CHECK(swap.err.find("Operation not permitted") != std::string::npos);
}

TEST_CASE("run -d, ls, logs, stop, start again, rm; rm of a running container needs -f" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto d = r.cli({"run", "-d", "--name", "web", ctr::test::shared_busybox().image, "sh", "-c", "echo started; sleep 60"});
    REQUIRE_MESSAGE(d.code == 0, d.err);
    CHECK(d.out.size() == 65);
    auto ls = json::parse(r.cli({"ls", "--format", "json"}).out);
    REQUIRE(ls.size() == 1);
    CHECK(ls[0]["name"] == "web");
    CHECK(ls[0]["state"] == "running");
    CHECK(r.logs_when("web", "started") == "started\n");  // run -d returns before sh has written

    auto rm = r.cli({"rm", "web"});
    CHECK(rm.code == 125);
    CHECK(rm.err.find("is running") != std::string::npos);

    auto stop = r.cli({"stop", "-t", "1", "web"});
    CHECK(stop.code == 0);
    auto stopped = json::parse(r.cli({"inspect", "web"}).out)[0];
    CHECK(stopped["state"] == "stopped");
    CHECK(stopped["exit_code"] == 137);  // sh ignores TERM as PID 1: killed after the grace period
    CHECK(r.cli({"ls", "-q"}).out.empty());

    CHECK(r.cli({"start", "web"}).code == 0);
    CHECK(json::parse(r.cli({"inspect", "web"}).out)[0]["state"] == "running");
    CHECK(r.cli({"kill", "-s", "TERM", "web"}).code == 0);  // ignored by sh as PID 1
    CHECK(r.cli({"kill", "web"}).code == 0);                // SIGKILL
    CHECK(r.cli({"wait", "web"}).out == "137\n");
    CHECK(r.cli({"kill", "web"}).code == 125);               // not running
    CHECK(r.cli({"rm", "web"}).code == 0);
    CHECK(ScratchDir::mounts_below(r.path()).empty());
}

TEST_CASE("errors: missing program 127, name in use, unknown runtime, unknown image; nothing left behind" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto missing = r.cli({"run", "--rm", ctr::test::shared_busybox().image, "/no/such/program"});
    CHECK(missing.code == 127);
    CHECK(missing.err.find("/no/such/program") != std::string::npos);

    REQUIRE(r.cli({"create", "--name", "taken", ctr::test::shared_busybox().image, "true"}).code == 0);
    auto dup = r.cli({"run", "--name", "taken", ctr::test::shared_busybox().image, "true"});
    CHECK(dup.code == 125);
    CHECK(dup.err.find("the container name \"taken\" is already in use") != std::string::npos);

    auto rt = r.cli({"run", "--runtime", "nope", ctr::test::shared_busybox().image, "true"});
    CHECK(rt.code == 125);
    // runtime-microvm is listed where QEMU is installed.
    CHECK(rt.err.find("unknown runtime \"nope\" (available: runtime-linux, ") != std::string::npos);
    CHECK(rt.err.find("example") != std::string::npos);  // both found through CONTAINER_PLUGIN_PATH
    CHECK(rt.err.find("runtime-minimal") != std::string::npos);

    auto img = r.cli({"run", ctr::test::shared_busybox().registry.host() + "/test/absent:1", "true"});
    CHECK(img.code == 125);
    CHECK(img.err.find("not found") != std::string::npos);

    auto mem = r.cli({"run", "--memory", "12XB", ctr::test::shared_busybox().image, "true"});
    CHECK(mem.code == 125);
    CHECK(mem.err.find("--memory: invalid size \"12XB\"") != std::string::npos);

    auto ls = json::parse(r.cli({"ls", "-a", "--format", "json"}).out);
    CHECK(ls.size() == 1);  // only "taken"; the failed ones left no record
}

TEST_CASE("--runtime example runs a container end to end, with no change to the host, and a warning that it confines nothing" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto res = r.cli({"run", "--rm", "--runtime", "example", ctr::test::shared_busybox().image, "sh", "-c", "echo hello from the example runtime; exit 4"});
    CHECK(res.code == 4);
    CHECK(res.out == "hello from the example runtime\n");
    CHECK(res.err.find("runtime \"example\" confines nothing (its manifest says isolation = \"none\")") != std::string::npos);
    auto plugins = r.cli({"system", "plugin", "ls"}).out;
    CHECK(plugins.find("ISOLATION") != std::string::npos);
    CHECK(json::parse(r.cli({"system", "plugin", "ls", "--format", "json"}).out).dump().find(R"("isolation":"vm")") != std::string::npos);
    // Not found unless its folder is on CONTAINER_PLUGIN_PATH, as the tests put it.
    DaemonRoot bare;
    bare.start({"CONTAINER_PLUGIN_PATH="});
    auto unknown = bare.cli({"run", "--rm", "--runtime", "example", ctr::test::shared_busybox().image, "true"}, {"CONTAINER_PLUGIN_PATH="});
    CHECK(unknown.code == 125);
    CHECK(unknown.err.find("unknown runtime \"example\"") != std::string::npos);
    CHECK(bare.cli({"system", "plugin", "ls", "-q"}, {"CONTAINER_PLUGIN_PATH="}).out.find("example") == std::string::npos);
}

TEST_CASE("a daemon killed with SIGKILL leaves containers running; the new one finds them, stops them, reads their logs" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "survivor", ctr::test::shared_busybox().image, "sh", "-c", "echo before; sleep 60"}).code == 0);
    REQUIRE(r.cli({"run", "-d", "--name", "short", ctr::test::shared_busybox().image, "sh", "-c", "sleep 1; exit 7"}).code == 0);
    r.kill9();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // "short" exits while no daemon runs
    auto ls = json::parse(r.cli({"ls", "-a", "--format", "json"}).out);  // starts a new daemon
    INFO(ls.dump());
    INFO(r.cli({"system", "logs"}).out);
    std::map<std::string, json> by_name;
    for (const auto& c : ls) by_name[c["name"]] = c;
    CHECK(by_name["survivor"]["state"] == "running");
    CHECK(by_name["short"]["state"] == "stopped");
    CHECK(by_name["short"]["exit_code"] == 7);
    CHECK(r.cli({"logs", "survivor"}).out == "before\n");
    CHECK(r.cli({"stop", "-t", "0", "survivor"}).code == 0);
    CHECK(json::parse(r.cli({"inspect", "survivor"}).out)[0]["state"] == "stopped");
    CHECK(r.cli({"rm", "survivor", "short"}).code == 0);
}

TEST_CASE("20 containers started in parallel all run and report their own exit codes" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start();
    REQUIRE(r.cli({"image", "pull", "--progress", "none", ctr::test::shared_busybox().image}).code == 0);
    std::vector<std::future<ctr::test::Run>> runs;
    for (int i = 0; i < 20; ++i)
        runs.push_back(std::async(std::launch::async, [&r, i] {
            return r.cli({"run", "--rm", ctr::test::shared_busybox().image, "sh", "-c", "echo n" + std::to_string(i) + "; exit " + std::to_string(i)});
        }));
    for (int i = 0; i < 20; ++i) {
        auto res = runs[i].get();
        CAPTURE(i);
        CHECK_MESSAGE(res.code == i, res.err);
        CHECK(res.out == "n" + std::to_string(i) + "\n");
    }
    CHECK(r.cli({"ls", "-a", "-q"}).out.empty());
    CHECK(ScratchDir::mounts_below(r.path()).empty());
}

TEST_CASE("system stop --all stops every container, then the daemon" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "a", ctr::test::shared_busybox().image, "sleep", "60"}).code == 0);
    REQUIRE(r.cli({"run", "-d", "--name", "b", ctr::test::shared_busybox().image, "sleep", "60"}).code == 0);
    CHECK(r.cli({"system", "stop", "--all"}).code == 0);
    CHECK(r.cli({"system", "status"}).code == 1);
    auto ls = json::parse(r.cli({"ls", "-a", "--format", "json"}).out);
    REQUIRE(ls.size() == 2);
    for (const auto& c : ls) CHECK(c["state"] == "stopped");
    auto df = json::parse(r.cli({"system", "df", "--format", "json"}).out);
    CHECK(df[0]["total"] == 1);  // the image
    CHECK(df[1]["total"] == 2);
}

TEST_CASE("volumes: a named volume shared by two running containers, read-only mounts, binds, anonymous ones removed with --rm" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "writer", "-v", "shared:/data", ctr::test::shared_busybox().image, "sh", "-c", "echo hello > /data/msg; sleep 60"}).code == 0);
    std::string got;
    for (int i = 0; i < 50 && got.empty(); ++i) {  // the writer runs concurrently
        got = r.cli({"run", "--rm", "-v", "shared:/data:ro", ctr::test::shared_busybox().image, "cat", "/data/msg"}).out;
        if (got.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(got == "hello\n");
    auto ro = r.cli({"run", "--rm", "-v", "shared:/data:ro", ctr::test::shared_busybox().image, "sh", "-c", "echo x > /data/other"});
    CHECK(ro.code != 0);
    CHECK(ro.err.find("Read-only file system") != std::string::npos);
    auto in_use = r.cli({"volume", "rm", "shared"});
    CHECK(in_use.code == 125);
    CHECK(in_use.err.find("is in use by container(s)") != std::string::npos);

    ScratchDir host;
    REQUIRE(ctr::sys::write_file_atomic(host.path() / "f", "from the host\n"));
    CHECK(r.cli({"run", "--rm", "-v", host.path().string() + ":/h", ctr::test::shared_busybox().image, "cat", "/h/f"}).out == "from the host\n");

    CHECK(r.cli({"run", "--rm", "-v", "/scratch", ctr::test::shared_busybox().image, "sh", "-c", "echo ok > /scratch/x && cat /scratch/x"}).out == "ok\n");
    CHECK(r.cli({"volume", "ls", "-q"}).out == "shared\n");  // the anonymous one went with --rm

    for (auto [spec, why] : {std::pair{"/no/such/dir:/x", "bind source \"/no/such/dir\" does not exist"},
                             {"v:/proc", "cannot mount over /proc"}, {"v:relative", "must be an absolute path"},
                             {"v:/a:rx", "options must be ro or rw"}}) {
        CAPTURE(spec);
        auto bad = r.cli({"run", "--rm", "-v", spec, ctr::test::shared_busybox().image, "true"});
        CHECK(bad.code == 125);
        CHECK(bad.err.find(why) != std::string::npos);
    }
    CHECK(r.cli({"rm", "-f", "writer"}).code == 0);
    CHECK(r.cli({"volume", "rm", "shared"}).code == 0);
    CHECK(ScratchDir::mounts_below(r.path()).empty());
}

TEST_CASE("exec runs another process in a running container, with its own output and exit code" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "box", "-e", "BASE=1", ctr::test::shared_busybox().image, "sleep", "60"}).code == 0);
    auto e = r.cli({"exec", "box", "sh", "-c", "echo out $BASE; echo err >&2; exit 5"});
    CHECK(e.code == 5);
    CHECK(e.out == "out 1\n");
    CHECK(e.err == "err\n");
    CHECK(r.cli({"exec", "-e", "X=2", "-w", "/work", "-u", "1000", "box", "sh", "-c", "echo $X $(pwd) $(id -u)"}).out == "2 /work 1000\n");
    CHECK(r.cli({"exec", "box", "ps"}).out.find("sleep 60") != std::string::npos);  // the same PID namespace
    auto missing = r.cli({"exec", "box", "/no/such/program"});
    CHECK(missing.code == 127);
    auto none = r.cli({"exec", "nosuch", "true"});
    CHECK(none.code == 125);
    CHECK(none.err.find("no such container: nosuch") != std::string::npos);
    REQUIRE(r.cli({"stop", "-t", "0", "box"}).code == 0);
    auto stopped = r.cli({"exec", "box", "true"});
    CHECK(stopped.code == 125);
    CHECK(stopped.err.find("is not running") != std::string::npos);
}

TEST_CASE("run flags: --read-only, --tmpfs, --cap-add/--cap-drop, --ulimit (clamped), --pids-limit, --shm-size, --cidfile, --stop-signal" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const std::string& img = ctr::test::shared_busybox().image;
    auto ro = r.cli({"run", "--rm", "--read-only", img, "sh", "-c", "echo x > /f"});
    CHECK(ro.code != 0);
    CHECK(ro.err.find("Read-only file system") != std::string::npos);
    CHECK(r.cli({"run", "--rm", "--read-only", "--tmpfs", "/scratch:size=1m", img, "sh", "-c", "echo x > /scratch/f && cat /scratch/f"}).out == "x\n");
    CHECK(r.cli({"run", "--rm", "--cap-drop", "ALL", img, "grep", "CapEff", "/proc/self/status"}).out == "CapEff:\t0000000000000000\n");
    auto added = r.cli({"run", "--rm", "--cap-add", "net_admin", img, "grep", "CapEff", "/proc/self/status"}).out;
    CHECK(added.find("a80435fb") != std::string::npos);  // Docker's 14 plus NET_ADMIN (bit 12)
    auto bogus = r.cli({"run", "--rm", "--cap-add", "bogus", img, "true"});
    CHECK(bogus.code == 125);
    CHECK(bogus.err.find("--cap-add: unknown capability \"bogus\"") != std::string::npos);
    CHECK(r.cli({"run", "--rm", "--ulimit", "nofile=100:200", img, "sh", "-c", "ulimit -n; ulimit -Hn"}).out == "100\n200\n");
    // Above our own hard limit: clamped to it, never refused by the runtime.
    rlimit ours{};
    ::getrlimit(RLIMIT_NOFILE, &ours);
    CHECK(r.cli({"run", "--rm", "--ulimit", "nofile=999999999", img, "sh", "-c", "ulimit -Hn"}).out ==
          std::to_string(ours.rlim_max) + "\n");
    auto soft_above = r.cli({"run", "--rm", "--ulimit", "nofile=10:5", img, "true"});
    CHECK(soft_above.code == 125);
    CHECK(soft_above.err.find("the soft limit is above the hard limit") != std::string::npos);
    auto pids = r.cli({"run", "--rm", "--pids-limit", "5", img, "sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done"});
    CHECK(pids.err.find("can't fork") != std::string::npos);
    CHECK(r.cli({"run", "--rm", "--shm-size", "1m", img, "grep", "/dev/shm", "/proc/mounts"}).out.find("size=1024k") != std::string::npos);
    ScratchDir d;
    auto cid = d.path() / "cid";
    REQUIRE(r.cli({"run", "--rm", "--cidfile", cid.string(), img, "sh", "-c", "true"}).code == 0);
    CHECK(ctr::sys::read_file(cid)->size() == 65);
    CHECK(r.cli({"run", "--rm", "--cidfile", cid.string(), img, "sh", "-c", "true"}).code == 125);  // exists already
    REQUIRE(r.cli({"run", "-d", "--name", "k", "--stop-signal", "KILL", "--stop-timeout", "30", img, "sleep", "60"}).code == 0);
    CHECK(r.cli({"stop", "k"}).code == 0);  // KILL first: no 30 s grace period spent
    CHECK(json::parse(r.cli({"inspect", "k"}).out)[0]["exit_code"] == 137);
}

TEST_CASE("stats: cpu, memory against its limit, pids against its limit, from the container's cgroups" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "busy", "--memory", "64m", "--pids-limit", "50", ctr::test::shared_busybox().image, "sh", "-c", "while :; do :; done"}).code == 0);
    auto s = json::parse(r.cli({"stats", "--no-stream", "--format", "json", "busy"}).out);
    REQUIRE(s.size() == 1);
    CHECK(s[0]["memory"]["limit"] == 64 << 20);
    CHECK(s[0]["memory"]["usage"].get<int64_t>() > 0);
    CHECK(s[0]["pids"]["limit"] == 50);
    CHECK(s[0]["pids"]["current"] == 1);
    CHECK(s[0]["cpu_percent"].get<double>() > 20);  // a busy loop, on a shared 2-CPU machine
    auto table = r.cli({"stats", "--no-stream"});
    CHECK(table.out.find("64.0 MiB") != std::string::npos);
    // Within 10% of what the kernel's files say, on whichever cgroup layout.
    const int pid = std::stoi(r.cli({"inspect", "-f", "{{.State.Pid}}", "busy"}).out);
    auto again = json::parse(r.cli({"stats", "--no-stream", "--format", "json", "busy"}).out);
    const double kernel = std::stod("0" + ctr::test::cgroup_file(pid, "memory", "memory.usage_in_bytes", "memory.current"));
    const double ours = again[0]["memory"]["usage"].get<double>();
    CHECK_MESSAGE(std::abs(ours - kernel) <= kernel * 0.1, "stats " << ours << " B, the cgroup " << kernel << " B");
    CHECK(ctr::test::cgroup_file(pid, "pids", "pids.max", "pids.max") == "50");
    CHECK(r.cli({"rm", "-f", "busy"}).code == 0);
    auto stopped = r.cli({"stats", "--no-stream", "busy"});
    CHECK(stopped.code == 125);
}

TEST_CASE("a process over its memory limit is killed by the kernel's OOM killer, and inspect says so" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    // The shell's own memory grows past 32 MiB as it keeps 64 MiB of output.
    const std::vector<std::string> hog_args = {"--memory", "32m", "--memory-swap", "32m", ctr::test::shared_busybox().image, "sh", "-c",
                                               "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo ${#x}"};
    auto run_hog = [&](DaemonRoot& root) {
        std::vector<std::string> args = {"run", "--name", "hog"};
        args.insert(args.end(), hog_args.begin(), hog_args.end());
        auto hog = root.cli(args);
        CHECK_MESSAGE(hog.code == 137, hog.err);
        CHECK(root.cli({"inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "hog"}).out == "true 137\n");
    };
    run_hog(r);
    {
        // The same through runc, the config's other OCI runtime, which
        // makes the container's cgroup and sets its limit itself.
        DaemonRoot on_runc;
        fs::create_directories(on_runc.path() / "etc/container");
        REQUIRE(ctr::sys::write_file_atomic(on_runc.path() / "etc/container/config.toml", "[plugins.runtime-linux]\noci_runtime = \"runc\"\n"));
        on_runc.start();
        run_hog(on_runc);
    }
    // A SIGKILL from anyone else is no OOM.
    REQUIRE(r.cli({"run", "-d", "--name", "killed", ctr::test::shared_busybox().image, "sleep", "60"}).code == 0);
    CHECK(r.cli({"kill", "killed"}).code == 0);
    CHECK(r.cli({"wait", "killed"}).out == "137\n");
    CHECK(r.cli({"inspect", "-f", "{{.State.OOMKilled}} {{.State.ExitCode}}", "killed"}).out == "false 137\n");
    CHECK(r.cli({"rm", "-f", "hog", "killed"}).code == 0);
}

TEST_CASE("--restart: on-failure:N restarts a failing container N times; always restarts until the user stops it" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "flaky", "--restart", "on-failure:2", ctr::test::shared_busybox().image, "sh", "-c", "echo run; exit 3"}).code == 0);
    std::string out;
    for (int i = 0; i < 100 && out != "run\nrun\nrun\n"; ++i) {  // the first run and two restarts, 0 + 1 s apart
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        out = r.cli({"logs", "flaky"}).out;
    }
    CHECK(out == "run\nrun\nrun\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // and no more
    CHECK(r.cli({"logs", "flaky"}).out == "run\nrun\nrun\n");
    CHECK(json::parse(r.cli({"inspect", "flaky"}).out)[0]["exit_code"] == 3);

    REQUIRE(r.cli({"run", "-d", "--name", "always", "--restart", "always", ctr::test::shared_busybox().image, "sh", "-c", "echo up; sleep 0.2"}).code == 0);
    out.clear();
    for (int i = 0; i < 100 && std::count(out.begin(), out.end(), '\n') < 2; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        out = r.cli({"logs", "always"}).out;
    }
    CHECK(std::count(out.begin(), out.end(), '\n') >= 2);  // restarted after a clean exit
    CHECK(r.cli({"stop", "-t", "0", "always"}).code == 0);
    auto after = r.cli({"logs", "always"}).out;
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    CHECK(r.cli({"logs", "always"}).out == after);  // stopped by the user: stays stopped
    CHECK(json::parse(r.cli({"inspect", "always"}).out)[0]["state"] == "stopped");

    auto both = r.cli({"run", "--rm", "--restart", "always", ctr::test::shared_busybox().image, "true"});
    CHECK(both.code == 125);
    CHECK(both.err.find("--restart and --rm cannot go together") != std::string::npos);
    auto bad = r.cli({"run", "--restart", "sometimes", ctr::test::shared_busybox().image, "true"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("want no, on-failure[:N], always or unless-stopped") != std::string::npos);
}

TEST_CASE("rename, top, export and kube generate" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "first", ctr::test::shared_busybox().image, "sh", "-c", "echo data > /work/file; sleep 60 & sleep 61"}).code == 0);
    CHECK(r.cli({"rename", "first", "second"}).code == 0);
    CHECK(json::parse(r.cli({"inspect", "second"}).out)[0]["name"] == "second");
    CHECK(r.cli({"inspect", "first"}).code == 125);
    CHECK(r.cli({"rename", "second", "bad/name"}).code == 125);

    auto top = json::parse(r.cli({"top", "--format", "json", "second"}).out);
    std::vector<std::string> commands;
    for (const auto& p : top) commands.push_back(p["command"]);
    CHECK(std::find(commands.begin(), commands.end(), "sleep 60") != commands.end());
    CHECK(std::find(commands.begin(), commands.end(), "sleep 61") != commands.end());
    // In the host's PID namespace, top lists the container's cgroup: its own
    // processes, never the host's others.
    REQUIRE(r.cli({"run", "-d", "--name", "hostpid", "--pid", "host", ctr::test::shared_busybox().image, "sleep", "62"}).code == 0);
    auto host_top = json::parse(r.cli({"top", "--format", "json", "hostpid"}).out);
    CHECK(host_top.size() == 1);
    CHECK(host_top[0].value("command", "") == "sleep 62");
    CHECK(r.cli({"rm", "-f", "hostpid"}).code == 0);

    ScratchDir out;
    auto tarball = out.path() / "rootfs.tar";
    REQUIRE(r.cli({"export", "-o", tarball.string(), "second"}).code == 0);
    auto listing = ctr::test::sh("tar -tvf " + tarball.string());
    CHECK(listing.find("bin/busybox") != std::string::npos);
    CHECK(listing.find("work/file") != std::string::npos);  // the container's own changes are in it
    CHECK(listing.find("bin/sh -> busybox") != std::string::npos);  // links stay links

    // Its Kubernetes YAML: a Pod (no restart policy), with its image and command.
    auto kube = r.cli({"kube", "generate", "second"});
    CHECK_MESSAGE(kube.code == 0, kube.err);
    CHECK(kube.out.find("kind: Pod\n") != std::string::npos);
    CHECK(kube.out.find("image: \"" + ctr::test::shared_busybox().image + "\"") != std::string::npos);  // quoted: it has a colon
    CHECK(kube.out.find("restartPolicy: Never") != std::string::npos);
    CHECK(r.cli({"kube", "generate", "nosuch"}).code == 125);
    CHECK(r.cli({"rm", "-f", "second"}).code == 0);
}

TEST_CASE("image prune -a removes every image no container was made from" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"create", "--name", "keep", ctr::test::shared_busybox().image, "true"}).code == 0);
    CHECK(r.cli({"image", "prune", "-a"}).out == "Total reclaimed space: 0 B\n");  // in use
    CHECK(r.cli({"image", "ls", "-q"}).out == ctr::test::shared_busybox().image + "\n");
    CHECK(r.cli({"rm", "keep"}).code == 0);
    auto pruned = r.cli({"image", "prune", "-a"}).out;
    CHECK(pruned.rfind(ctr::test::shared_busybox().image + "\nTotal reclaimed space: ", 0) == 0);
    CHECK(pruned.find("Total reclaimed space: 0 B") == std::string::npos);
    CHECK(r.cli({"image", "ls", "-q"}).out.empty());
}

TEST_CASE("logs -n shows the last lines of each stream" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "--name", "counter", ctr::test::shared_busybox().image, "sh", "-c", "for i in 1 2 3 4 5; do echo $i; done; printf 'e1\\ne2\\ne3'  >&2"}).code == 0);
    auto two = r.cli({"logs", "-n", "2", "counter"});
    CHECK(two.out == "4\n5\n");
    CHECK(two.err == "e2\ne3");  // a last line without its newline counts
    CHECK(r.cli({"logs", "-n", "0", "counter"}).out.empty());
    CHECK(r.cli({"logs", "--tail", "99", "counter"}).out == "1\n2\n3\n4\n5\n");
    CHECK(r.cli({"logs", "--tail", "all", "counter"}).out == "1\n2\n3\n4\n5\n");
    auto bad = r.cli({"logs", "-n", "many", "counter"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("--tail \"many\"") != std::string::npos);
    CHECK(r.cli({"rm", "counter"}).code == 0);
}

TEST_CASE("while a detached container runs, its shim is the small static reaper; the exit is recorded and the OCI state deleted" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto id = r.cli({"run", "-d", "--name", "lean", "--network", "none", ctr::test::shared_busybox().image, "sh", "-c", "echo up; sleep 100"});
    REQUIRE(id.code == 0);
    std::string cid = id.out.substr(0, 64);
    fs::path dir = r.path() / "var/lib/container/containers" / cid;
    auto pid_text = ctr::sys::read_file(dir / "shim.pid");
    REQUIRE(pid_text);
    std::string shim_pid = *pid_text;
    while (!shim_pid.empty() && shim_pid.back() == '\n') shim_pid.pop_back();
    std::string exe;
    for (int i = 0; i < 50 && exe.find("reaper") == std::string::npos; ++i) {
        std::error_code ec;
        exe = fs::read_symlink("/proc/" + shim_pid + "/exe", ec).string();
        usleep(20000);
    }
    CHECK(exe.find("container-shim-reaper") != std::string::npos);  // the same pid, now the reaper
    fs::path oci_state = r.path() / "var/lib/container/plugins/runtime-linux/oci/crun" / cid;
    CHECK(fs::exists(oci_state));
    // Output is still marked with its time while the reaper watches.
    CHECK(r.cli({"logs", "-t", "lean"}).out.find("Z up\n") != std::string::npos);
    CHECK(r.cli({"kill", "lean"}).code == 0);
    CHECK(r.cli({"wait", "lean"}).out == "137\n");
    for (int i = 0; i < 50 && fs::exists(oci_state); ++i) usleep(20000);
    CHECK_FALSE(fs::exists(oci_state));  // the shim, exec'd again, deleted it
    CHECK(r.cli({"start", "lean"}).code == 0);  // and the same container runs again
    CHECK(r.cli({"rm", "-f", "lean"}).code == 0);
}

namespace {

// Pids of the standby shims waiting for `root`'s daemon ("container-shim
// --standby RUNTIME ROOT FD"), from /proc.
std::vector<int> standby_shims(const std::string& root) {
    std::vector<int> out;
    std::error_code ec;
    for (const auto& p : fs::directory_iterator("/proc", ec)) {
        std::string name = p.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        auto cmd = ctr::sys::read_file(p.path() / "cmdline");
        if (!cmd) continue;
        std::string want = "--standby";  // the arguments as /proc shows them, each ended by a NUL
        for (const std::string& arg : {std::string("runtime-linux"), root}) want += '\0' + arg;
        want += '\0';
        if (cmd->find(want) != std::string::npos) out.push_back(std::stoi(name));
    }
    return out;
}

std::vector<int> await_standby(const std::string& root, int not_pid = -1) {
    for (int i = 0; i < 250; ++i) {
        auto s = standby_shims(root);
        if (s.size() == 1 && s[0] != not_pid) return s;
        usleep(20000);
    }
    return standby_shims(root);
}

}  // namespace

TEST_CASE("a standby shim, loaded ahead, runs the next container; a dead one is replaced; none outlives the daemon" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"create", "--name", "first", "--network", "none", ctr::test::shared_busybox().image, "sleep", "100"}).code == 0);  // create makes one ready
    auto ready = await_standby(r.root());
    REQUIRE(ready.size() == 1);
    REQUIRE(r.cli({"start", "first"}).code == 0);
    auto id = json::parse(r.cli({"inspect", "first"}).out);
    std::string cid = id.is_array() ? id[0]["id"].get<std::string>() : id["id"].get<std::string>();
    auto shim_pid = ctr::sys::read_file(r.path() / "var/lib/container/containers" / cid / "shim.pid");
    REQUIRE(shim_pid);
    CHECK(std::stoi(*shim_pid) == ready[0]);  // the standby became the container's shim
    // The next one is made ready; killed, it is replaced at the next start, which still works.
    auto next = await_standby(r.root(), ready[0]);
    REQUIRE(next.size() == 1);
    CHECK(next[0] != ready[0]);
    ::kill(next[0], SIGKILL);
    auto run = r.cli({"run", "--rm", "--network", "none", ctr::test::shared_busybox().image, "sh", "-c", "exit 7"});
    CHECK_MESSAGE(run.code == 7, run.err);
    CHECK(r.cli({"rm", "-f", "first"}).code == 0);
    CHECK(await_standby(r.root(), next[0]).size() == 1);
    // A stop right after a run: the cgroup the finishing shim is deleting is
    // waited for, and the root's cgroup parent goes with the daemon.
    CHECK(r.cli({"run", "--rm", "--network", "none", ctr::test::shared_busybox().image, "true"}).code == 0);
    CHECK(r.cli({"system", "stop"}).code == 0);
    for (const auto& dir : ctr::sys::Cgroups().dirs(r.cgroup_parent())) CHECK_MESSAGE(!fs::exists(dir), dir.string());
    for (int i = 0; i < 100 && !standby_shims(r.root()).empty(); ++i) usleep(20000);
    CHECK(standby_shims(r.root()).empty());  // told it is not needed, it left
}

TEST_CASE("the CLI end to end on runc: run, exit codes, -d, exec, logs, stop, the reaper, restart" * CTR_NEEDS_ROOT) {
    // The operator picks runc in the system config; every load of runtime-linux sees it.
    DaemonRoot r;
    fs::create_directories(r.path() / "etc/container");
    REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml", "[plugins.runtime-linux]\noci_runtime = \"runc\"\n"));
    r.start();
    CHECK(r.cli({"system", "property", "ls"}).out.find("plugins.runtime-linux.oci_runtime") != std::string::npos);
    auto ran = r.cli({"run", "--rm", "--network", "none", ctr::test::shared_busybox().image, "sh", "-c", "echo out; echo err >&2; exit 3"});
    CHECK_MESSAGE(ran.code == 3, ran.err);
    CHECK(ran.out == "out\n");
    CHECK(ran.err.find("err\n") != std::string::npos);
    CHECK(r.cli({"run", "--rm", "--network", "none", ctr::test::shared_busybox().image, "no-such-program"}).code == 127);
    auto bg = r.cli({"run", "-d", "--name", "bg", ctr::test::shared_busybox().image, "sh", "-c", "echo hello; exec sleep 100"});
    REQUIRE(bg.code == 0);
    // runc's state, not crun's, holds the container.
    CHECK(fs::exists(r.path() / "var/lib/container/plugins/runtime-linux/oci/runc" / bg.out.substr(0, 64)));
    CHECK(r.cli({"exec", "bg", "sh", "-c", "echo from-exec; exit 4"}).code == 4);
    CHECK(r.cli({"exec", "bg", "cat", "/proc/1/cmdline"}).out.find("sleep") != std::string::npos);
    CHECK(r.logs_when("bg", "hello") == "hello\n");
    CHECK(r.cli({"stop", "-t", "1", "bg"}).code == 0);
    CHECK(json::parse(r.cli({"inspect", "bg"}).out)[0]["exit_code"] == 137);  // sleep as PID 1 ignores TERM
    CHECK(r.cli({"start", "bg"}).code == 0);
    CHECK(r.cli({"exec", "bg", "true"}).code == 0);
    CHECK(r.cli({"rm", "-f", "bg"}).code == 0);
}

TEST_CASE("logs -t gives each line the time it was written; --since keeps what came after a time" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    // Two bursts 1.5 s apart, on both streams.
    REQUIRE(r.cli({"run", "--name", "talker", "--network", "none", ctr::test::shared_busybox().image, "sh", "-c",
                   "echo early; echo early-err >&2; sleep 1.5; echo late; echo late-err >&2"}).code == 0);
    auto stamped = r.cli({"logs", "-t", "talker"});
    REQUIRE(stamped.code == 0);
    // "2026-11-28T16:14:17.123456789Z early"
    std::regex line_re("([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:([0-9]{2})\\.([0-9]{9})Z) (early|late)\n");
    std::smatch m;
    std::string rest = stamped.out;
    std::vector<double> secs;
    while (std::regex_search(rest, m, line_re)) {
        secs.push_back(std::stod(m[2].str()) + std::stod("0." + m[3].str()));
        rest = m.suffix();
    }
    REQUIRE(secs.size() == 2);
    double gap = secs[1] - secs[0];
    if (gap < 0) gap += 60;
    CHECK(gap > 1.2);  // the late line carries its own time, not the early one's
    CHECK(gap < 5);
    CHECK(stamped.err.find("Z early-err\n") != std::string::npos);
    // --since between the bursts: only the late lines. The timestamps say where "between" is.
    auto inspect = json::parse(r.cli({"inspect", "talker"}).out)[0];
    std::tm started_tm{};
    REQUIRE(strptime(inspect["started_at"].get<std::string>().c_str(), "%Y-%m-%dT%H:%M:%SZ", &started_tm) != nullptr);
    double started = static_cast<double>(timegm(&started_tm));  // inspect's times are RFC 3339
    std::string minute_s = stamped.out.substr(0, 17);  // "YYYY-MM-DDTHH:MM:"
    char between[64];
    std::snprintf(between, sizeof between, "%s%09.6fZ", minute_s.c_str(), secs[0] + 0.7 >= 60 ? 59.999 : secs[0] + 0.7);
    auto since = r.cli({"logs", "--since", between, "talker"});
    CHECK(since.code == 0);
    CHECK(since.out == "late\n");
    CHECK(since.err == "late-err\n");
    CHECK(r.cli({"logs", "--since", std::to_string(static_cast<int64_t>(started) - 5), "talker"}).out == "early\nlate\n");
    auto bad = r.cli({"logs", "--since", "soon", "talker"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("--since: \"soon\" is not a time") != std::string::npos);
    CHECK(r.cli({"rm", "talker"}).code == 0);
}

TEST_CASE("--init runs tini as PID 1: the command is its child, signals reach it, its exit code comes out" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto res = r.cli({"run", "--rm", "--init", ctr::test::shared_busybox().image, "sh", "-c", "cat /proc/1/cmdline; echo; echo pid=$$; exit 3"});
    CHECK(res.code == 3);
    CHECK(res.out.find("/sbin/container-init") == 0);
    CHECK(res.out.find("pid=1\n") == std::string::npos);
    // A sleep as PID 1 ignores SIGTERM and is killed (137); under tini it gets it (143).
    REQUIRE(r.cli({"run", "-d", "--init", "--name", "inited", ctr::test::shared_busybox().image, "sleep", "60"}).code == 0);
    CHECK(r.cli({"stop", "-t", "20", "inited"}).code == 0);
    CHECK(json::parse(r.cli({"inspect", "inited"}).out)[0]["exit_code"] == 143);
    CHECK(r.cli({"rm", "inited"}).code == 0);
}

TEST_CASE("--mount binds host paths, mounts named volumes and tmpfs, read-only when asked" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ScratchDir host;
    REQUIRE(ctr::sys::write_file_atomic(host.path() / "file", "from-host\n"));
    auto res = r.cli({"run", "--rm", "--mount", "type=bind,source=" + host.path().string() + ",target=/h,readonly", "--mount",
                      "type=volume,source=shared,target=/v", "--mount", "type=tmpfs,target=/t,tmpfs-size=1048576", ctr::test::shared_busybox().image, "sh",
                      "-c", "cat /h/file; echo x > /h/no 2>/dev/null || echo ro-ok; echo kept > /v/f; grep ' /t ' /proc/mounts | grep -c tmpfs"});
    CHECK_MESSAGE(res.code == 0, res.err);
    CHECK(res.out == "from-host\nro-ok\n1\n");
    // The named volume outlives the container.
    CHECK(r.cli({"run", "--rm", "--mount", "source=shared,target=/again", ctr::test::shared_busybox().image, "cat", "/again/f"}).out == "kept\n");
    auto bad = r.cli({"run", "--rm", "--mount", "type=bind,target=/x", ctr::test::shared_busybox().image, "true"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("--mount \"type=bind,target=/x\"") != std::string::npos);
}
