// Escape classes of reliability-and-security.md §3 that attack the OCI
// runtime itself, made for real from inside a container by a static probe
// (tests/fixtures/probes/exe_probe.c), on a copy of the runtime binary that
// the test made: if a defence were missing, only the copy would be harmed.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/spawn.hpp>

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <thread>

using ctr::test::DaemonRoot;
namespace fs = std::filesystem;

namespace {

// busybox, the probes, /bin/evil: a script whose interpreter is
// /proc/self/exe, so that a runtime that executes it runs itself inside;
// and /data, a symlink to /dev.
ctr::test::BusyboxRegistry& escape_images() {
    static ctr::test::BusyboxRegistry s("cp \"$CTR_BUILD_ROOT/tests/exe-probe\" \"$CTR_BUILD_ROOT/tests/swap-probe\" bin/ && printf '#!/proc/self/exe\\n' > bin/evil && "
                                        "chmod 0755 bin/evil && ln -s /dev data");
    return s;
}

std::string dev_ino(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

// The probe's lines whose first word is `what`.
std::vector<std::string> lines_of(const std::string& log, const std::string& what) {
    std::vector<std::string> out;
    std::istringstream in(log);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(what + " ", 0) == 0) out.push_back(line);
    return out;
}

bool ends_ok(const std::string& line) { return line.size() >= 3 && line.compare(line.size() - 3, 3, " ok") == 0; }

std::string logs_until(const DaemonRoot& r, const std::string& name, const std::string& wanted) {
    std::string log;
    for (int i = 0; i < 100; ++i) {
        log = r.cli({"logs", name}).out;
        if (log.find(wanted) != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return log;
}

}  // namespace

TEST_CASE("the runtime cannot be overwritten, traced or read from a container during exec (CVE-2019-5736 class)" * CTR_NEEDS_ROOT) {
    for (std::string runtime : {"crun", "runc"}) {
        CAPTURE(runtime);
        std::string installed = ctr::sys::find_program(runtime);
        if (installed.empty()) continue;  // install-deps.sh installs both: the CI has them
        DaemonRoot r;
        // The daemon drives a copy of the runtime, which the attack may harm.
        fs::create_directories(r.path() / "bin");
        fs::create_directories(r.path() / "etc/container");
        const fs::path copy = r.path() / "bin" / runtime;
        fs::copy_file(installed, copy);
        const auto original = ctr::sys::read_file(copy);
        REQUIRE(original);
        REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml",
                                            "[plugins.runtime-linux]\noci_runtime = \"" + copy.string() + "\"\n"));
        r.start();

        // The probes watch for 300 s, far more than the execs below take even
        // on a loaded machine (60 s ran out in a CI run: "container plain is
        // not running"); they are removed at the end anyway.
        // Default capabilities: the runtime's process, entering to run each
        // exec, is not even visible to the container (not dumpable).
        REQUIRE(r.cli({"run", "-d", "--name", "plain", escape_images().image, "exe-probe", "300", dev_ino(copy), "trace"}).code == 0);
        // And with CAP_SYS_PTRACE it is: the attack then reaches the program.
        REQUIRE(r.cli({"run", "-d", "--cap-add", "SYS_PTRACE", "--name", "tracer", escape_images().image, "exe-probe", "300", dev_ino(copy), "trace"}).code == 0);
        logs_until(r, "plain", "watching");
        logs_until(r, "tracer", "watching");
        for (int i = 0; i < 3; ++i) {
            for (const char* c : {"plain", "tracer"}) {
                CAPTURE(c);
                CHECK(r.cli({"exec", c, "/bin/evil"}).code != 0);  // the runtime does not run itself inside
                // A runtime traced mid-exec may fail that exec (crun does, at
                // times): the attack costs the exec, never the host.
                auto ls = r.cli({"exec", c, "ls"});
                if (std::string(c) == "plain") CHECK_MESSAGE(ls.code == 0, ls.err);
            }
        }
        auto plain = logs_until(r, "plain", "read-mem");
        INFO(plain);
        CHECK(lines_of(plain, "hidden").size() >= 3);  // the probe did see the runtime come in
        for (const auto& l : lines_of(plain, "ptrace")) CHECK_FALSE(ends_ok(l));
        for (const auto& l : lines_of(plain, "read-mem")) CHECK_FALSE(ends_ok(l));
        CHECK(lines_of(plain, "saw").empty());

        auto traced = logs_until(r, "tracer", "reopen-write");
        INFO(traced);
        // It saw the runtime's own program: the copy, run from a read-only
        // bind mount of the binary (runc; crun on this build machine), or a
        // sealed memfd clone of it (crun where it cannot bind: the cgroup2
        // guest) ...
        auto saw = lines_of(traced, "saw");
        CHECK(saw.size() >= 3);
        std::set<std::string> clones;  // the pids that ran a clone
        for (const auto& l : saw) {
            const bool clone = l.find(" /memfd:") != std::string::npos;
            CHECK((clone || l.find(" " + dev_ino(copy) + " ") != std::string::npos));
            if (clone) clones.insert(l.substr(4, l.find(' ', 4) - 4));
        }
        // ... and could not write it: busy while it ran; after, the copy is
        // read-only and the clone sealed (it opens, but takes no write).
        CHECK(lines_of(traced, "open-write").size() >= 3);
        CHECK(lines_of(traced, "reopen-write").size() >= 1);
        for (const auto& l : lines_of(traced, "open-write")) CHECK_FALSE(ends_ok(l));
        for (const auto& l : lines_of(traced, "reopen-write"))
            if (!clones.count(l.substr(13, l.find(' ', 13) - 13))) CHECK_FALSE(ends_ok(l));
        for (const auto& l : lines_of(traced, "write")) CHECK_FALSE(ends_ok(l));
        auto after = ctr::sys::read_file(copy);
        REQUIRE(after);
        CHECK((*after == *original));
        CHECK(r.cli({"rm", "-f", "plain", "tracer"}).code == 0);
    }
}

TEST_CASE("the CVE-2019-5736 probe overwrites a host program that runs unprotected in its sight" * CTR_NEEDS_ROOT) {
    // The probe can fail: given the host's PID namespace and CAP_SYS_PTRACE
    // (to look at a process with more capabilities than its own), a program
    // of the host's that runs without a runtime's read-only bind (here a
    // copy of sleep) is overwritten once it ends, as the exploit did to runc.
    DaemonRoot r;
    fs::create_directories(r.path() / "bin");
    const fs::path victim = r.path() / "bin/victim";
    fs::copy_file(ctr::sys::find_program("sleep"), victim);
    REQUIRE(r.cli({"run", "-d", "--pid", "host", "--cap-add", "SYS_PTRACE", "--name", "host-pid", escape_images().image, "exe-probe", "60", dev_ino(victim)}).code == 0);
    logs_until(r, "host-pid", "watching");
    auto ran = ctr::test::run(victim.string(), {"1"});
    CHECK(ran.code == 0);
    auto log = logs_until(r, "host-pid", "\nwrite ");
    INFO(log);
    CHECK(lines_of(log, "write").size() == 1);
    for (const auto& l : lines_of(log, "write")) CHECK(ends_ok(l));
    auto now = ctr::sys::read_file(victim);
    REQUIRE(now);
    CHECK(now->rfind("OVERWRITTEN", 0) == 0);
    CHECK(r.cli({"rm", "-f", "host-pid"}).code == 0);
}

TEST_CASE("an image's symlink cannot lead a volume onto /dev, whose null masks paths (CVE-2025-31133 class)" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto host_setting = [] { return *ctr::sys::read_file("/proc/sys/kernel/core_pattern"); };
    const std::string core_pattern = host_setting();
    // A volume whose "null" points at a host setting: mounted as /dev, the
    // runtime would bind that setting over each masked path.
    REQUIRE(r.cli({"volume", "create", "fake-dev"}).code == 0);
    auto planted = r.cli({"run", "--rm", "-v", "fake-dev:/x", escape_images().image, "busybox", "ln", "-s", "/proc/sys/kernel/core_pattern", "/x/null"});
    REQUIRE_MESSAGE(planted.code == 0, planted.err);
    for (std::vector<std::string> how : {std::vector<std::string>{"-v", "fake-dev:/data"},
                                         {"-v", "never-made:/data"},
                                         {"--mount", "type=volume,src=fake-dev,dst=/data/sub"},
                                         {"--tmpfs", "/data"}}) {
        CAPTURE(how[1]);
        std::vector<std::string> args = {"run", "--rm", "--name", "led"};
        args.insert(args.end(), how.begin(), how.end());
        args.insert(args.end(), {escape_images().image, "true"});
        auto res = r.cli(args);
        CHECK(res.code == 125);
        CHECK_MESSAGE(res.err.find(" leads to /dev") != std::string::npos, res.err);
        CHECK(res.err.find("cannot mount over /dev") != std::string::npos);
        CHECK(r.cli({"ls", "-a", "-q"}).out.empty());  // nothing half made
        CHECK(r.cli({"volume", "ls", "-q"}).out == "fake-dev\n");  // nor a volume for it
    }
    // Lexically, too.
    auto direct = r.cli({"run", "--rm", "-v", "fake-dev:/dev", escape_images().image, "true"});
    CHECK(direct.code == 125);
    CHECK(direct.err.find("cannot mount over /dev") != std::string::npos);
    // The masked paths of a plain container are the real null device.
    // (Those this kernel has: each is the character device 1:3, and empty.)
    auto masked = r.cli({"run", "--rm", escape_images().image, "sh", "-c",
                         "for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do "
                         "[ -e $p ] && echo \"$(stat -c %t:%T $p) $(wc -c < $p)\"; done; true"});
    CHECK_MESSAGE(masked.code == 0, masked.err);
    CHECK(!masked.out.empty());
    std::istringstream seen(masked.out);
    for (std::string line; std::getline(seen, line);) CHECK(line == "1:3 0");
    CHECK(host_setting() == core_pattern);
}

TEST_CASE("a mount target swapped for a symlink during start stays inside the container (CVE-2021-30465 class)" * CTR_NEEDS_ROOT) {
    for (std::string runtime : {"crun", "runc"}) {
        CAPTURE(runtime);
        if (ctr::sys::find_program(runtime).empty()) continue;  // install-deps.sh installs both
        DaemonRoot r;
        fs::create_directories(r.path() / "etc/container");
        REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml",
                                            "[plugins.runtime-linux]\noci_runtime = \"" + runtime + "\"\n"));
        r.start();
        // A target name no host has: were it followed out of the root, the
        // runtime would make /NAME on the host and mount over it.
        const std::string name = "ctr-race-" + std::to_string(::getpid()) + "-" + runtime;
        const fs::path on_host = fs::path("/") / name;
        REQUIRE(r.cli({"run", "--rm", "-v", "marked:/w", escape_images().image, "sh", "-c", "echo m > /w/marker"}).code == 0);
        // A runtime known to lose this race (runc before 1.1.14) is named
        // at each start that it can reach, and not raced here: it would
        // write on the host. Any other must hold.
        auto calm = r.cli({"run", "--rm", "-v", "shared:/a", "-v", "marked:/a/d/" + name, escape_images().image, "true"});
        REQUIRE_MESSAGE(calm.code == 0, calm.err);
        if (calm.err.find("CVE-2024-45310") != std::string::npos) {
            CHECK(runtime == "runc");
            CHECK(calm.err.find("the mount at /a, under which /a/d/" + name + " is mounted") != std::string::npos);
            CHECK(r.cli({"run", "--rm", "-v", "shared:/a", escape_images().image, "true"}).err.empty());  // nothing nested: no warning
            continue;
        }
        // The attacker shares the volume that the victim mounts at /a, and
        // swaps /a/d (a directory) with /a/l (a symlink to "/") all along.
        REQUIRE(r.cli({"run", "-d", "--name", "swapper", "-v", "shared:/shared", escape_images().image, "swap-probe", "/shared", "120"}).code == 0);
        logs_until(r, "swapper", "swapping");
        std::map<std::string, int> outcomes;
        for (int i = 0; i < 12; ++i) {
            auto res = r.cli({"run", "--rm", "-v", "shared:/a", "-v", "marked:/a/d/" + name, escape_images().image, "sh", "-c",
                              "awk '{print $5}' /proc/self/mountinfo | grep " + name});
            // Started: where the volume is, as the container sees its mounts.
            // Not started: the runtime refused a target that moved.
            ++outcomes[res.code == 0 ? res.out : "refused"];
            std::error_code ec;
            if (fs::exists(on_host, ec)) {  // out of the root: undo it on the host, and fail
                ::umount2(on_host.c_str(), MNT_DETACH);
                fs::remove(on_host, ec);
                FAIL("a mount landed on the host at " << on_host.string());
            }
        }
        std::string seen;
        for (const auto& [what, n] : outcomes) seen += what + " x" + std::to_string(n) + "; ";
        INFO(seen);
        for (const auto& [what, n] : outcomes)
            CHECK((what == "refused" || what == "/a/d/" + name + "\n" || what == "/a/l/" + name + "\n" || what == "/" + name + "\n"));
        // The swaps did meet the runtime's mounting: not every start was the plain one.
        CHECK(outcomes["/a/d/" + name + "\n"] < 12);
        auto info = ctr::sys::read_file("/proc/self/mountinfo");
        REQUIRE(info);
        CHECK(info->find(name) == std::string::npos);
        CHECK(r.cli({"rm", "-f", "swapper"}).code == 0);
    }
}
