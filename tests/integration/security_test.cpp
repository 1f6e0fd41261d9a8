// Escape attempts from reliability-and-security.md §3 and the bad-input rows
// 35–43 and 50 of §5, against real containers.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include <ctr/sys/files.hpp>

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <algorithm>
#include <cctype>
#include <fstream>
#include <cstdlib>
#include <map>
#include <sstream>
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
    std::string plain, proc_link, not_exec, probe;
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
        // The system call probe (tests/fixtures/probes/syscall_probe.c).
        probe = registry.host() + "/sec/probe:1";
        ctr::test::build_and_push(work, {ctr::test::kBusyboxImage[0] + " && cp \"$CTR_BUILD_ROOT/tests/syscall-probe\" bin/"},
                                  "docker://" + probe);
    }
};

Images& security_images() {
    static Images i;
    return i;
}

// The probe's lines as NAME -> "ok" or the errno's number.
std::map<std::string, std::string> probe(const DaemonRoot& r, const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"run", "--rm"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {security_images().probe, "syscall-probe"});
    auto res = r.cli(args);
    REQUIRE_MESSAGE(res.code == 0, res.err);
    std::map<std::string, std::string> out;
    std::istringstream in(res.out);
    std::string name, result;
    while (in >> name >> result) out[name] = result;
    REQUIRE(out.count("unknown-syscall"));
    return out;
}

constexpr const char* kEPERM = "1";
constexpr const char* kENOSYS = "38";
constexpr const char* kEAFNOSUPPORT = "97";

}  // namespace

TEST_CASE("the default seccomp profile is an allow-list: no namespace by clone or unshare, no clone3, common socket families only" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto confined = probe(r, {});
    CHECK(confined["fork"] == "ok");
    CHECK(confined["clone-newuser"] == kEPERM);
    CHECK(confined["clone3"] == kENOSYS);  // libc falls back to clone, whose flags seccomp can read
    CHECK(confined["unshare-newuser"] == kEPERM);
    CHECK(confined["unshare-newns"] == kEPERM);
    CHECK(confined["mount-tmpfs"] == kEPERM);
    CHECK(confined["socket-inet"] == "ok");
    CHECK(confined["socket-unix"] == "ok");
    CHECK(confined["socket-vsock"] == kEAFNOSUPPORT);  // as on a kernel without them: programs fall back
    CHECK(confined["socket-alg"] == kEAFNOSUPPORT);
    CHECK(confined["personality-query"] == "ok");
    CHECK(confined["personality-read-implies-exec"] == kENOSYS);
    CHECK(confined["keyctl"] == kEPERM);
    CHECK(confined["io_uring_setup"] == kEPERM);
    CHECK(confined["bpf"] == kEPERM);
    // Calls the kernel may lack: "no such call", so a program's fallback runs.
    CHECK(confined["unknown-syscall"] == kENOSYS);
    CHECK(confined["newer-syscall"] == kENOSYS);

    // The same probe without the filter: each refusal above is the profile's.
    auto open = probe(r, {"--security-opt", "seccomp=unconfined"});
    CHECK(open["clone-newuser"] == "ok");
    CHECK(open["clone3"] == "ok");
    CHECK(open["unshare-newuser"] == "ok");
    CHECK(open["personality-read-implies-exec"] == "ok");
    CHECK(open["keyctl"] != kEPERM);
    CHECK(open["unknown-syscall"] == kENOSYS);  // the kernel's own answer, which the profile gives too

    // CAP_SYS_ADMIN brings the mount and namespace calls, as in Docker's profile.
    auto admin = probe(r, {"--cap-add", "SYS_ADMIN"});
    CHECK(admin["unshare-newns"] == "ok");
    CHECK(admin["mount-tmpfs"] == "ok");
    CHECK(admin["clone3"] == "ok");
    CHECK(admin["keyctl"] == kEPERM);  // not namespaced: never

    // crun (the default runtime) loaded the programs runtime-linux compiled
    // and kept, one per profile: the capability sets above make two
    // (plugins/runtime-linux/src/seccomp_bpf.hpp). What the probes met is theirs.
    const fs::path plugin = r.path() / "var/lib/container/plugins/runtime-linux";
    REQUIRE(fs::exists(plugin / "oci" / "crun"));
    std::error_code ec;
    CHECK(std::distance(fs::directory_iterator(plugin / "seccomp-cache", ec), fs::directory_iterator()) == 2);
}

TEST_CASE("precompile_seccomp = false: crun compiles the profile itself, to the same effect; a setting that is not a boolean is refused by name" *
          CTR_NEEDS_ROOT) {
    DaemonRoot r;
    fs::create_directories(r.path() / "etc/container");
    const fs::path config = r.path() / "etc/container/config.toml";
    REQUIRE(ctr::sys::write_file_atomic(config, "[plugins.runtime-linux]\nprecompile_seccomp = false\n"));
    r.start();
    auto confined = probe(r, {});
    CHECK(confined["unshare-newuser"] == kEPERM);
    CHECK(confined["clone3"] == kENOSYS);
    CHECK(confined["socket-vsock"] == kEAFNOSUPPORT);
    CHECK_FALSE(fs::exists(r.path() / "var/lib/container/plugins/runtime-linux/seccomp-cache"));

    REQUIRE(r.cli({"system", "stop"}).code == 0);
    REQUIRE(ctr::sys::write_file_atomic(config, "[plugins.runtime-linux]\nprecompile_seccomp = \"yes\"\n"));
    r.start();
    auto refused = r.cli({"run", "--rm", security_images().probe, "true"});
    CHECK(refused.code == 125);
    CHECK_MESSAGE(refused.err.find("setting precompile_seccomp must be true or false, not \"yes\"") != std::string::npos, refused.err);
    REQUIRE(ctr::sys::write_file_atomic(config, ""));  // for the reset that ends the test
    REQUIRE(r.cli({"system", "stop"}).code == 0);
    r.start();
}

TEST_CASE("--security-opt: a profile from a file, no-new-privileges=false, and bad options refused by name" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ScratchDir work;
    // The shipped profile, with mkdir and mkdirat taken off the list.
    auto text = ctr::sys::read_file(fs::path(std::getenv("CTR_SOURCE_ROOT")) / "configs/seccomp.json");
    REQUIRE(text);
    json profile = json::parse(*text);
    auto& names = profile["syscalls"][0]["names"];
    names.erase(std::remove(names.begin(), names.end(), "mkdir"), names.end());
    names.erase(std::remove(names.begin(), names.end(), "mkdirat"), names.end());
    REQUIRE(ctr::sys::write_file_atomic(work.path() / "no-mkdir.json", profile.dump(), 0644));
    auto denied = r.cli({"run", "--rm", "--security-opt", "seccomp=" + (work.path() / "no-mkdir.json").string(), security_images().plain, "busybox",
                         "mkdir", "/tmp/x"});
    CHECK(denied.code != 0);
    CHECK_MESSAGE(denied.err.find("Operation not permitted") != std::string::npos, denied.out << denied.err);
    CHECK(r.cli({"run", "--rm", security_images().plain, "busybox", "mkdir", "/tmp/x"}).code == 0);

    CHECK(r.cli({"run", "--rm", security_images().plain, "grep", "NoNewPrivs", "/proc/self/status"}).out.find("1") != std::string::npos);
    auto nnp = r.cli({"run", "--rm", "--security-opt", "no-new-privileges=false", security_images().plain, "grep", "NoNewPrivs", "/proc/self/status"});
    CHECK(nnp.out.find("0") != std::string::npos);
    CHECK(r.cli({"run", "--rm", "--security-opt", "label=disable", "--security-opt", "apparmor=unconfined", security_images().plain, "true"}).code == 0);

    auto missing = r.cli({"run", "--rm", "--security-opt", "seccomp=/nonexistent/profile.json", security_images().plain, "true"});
    CHECK(missing.code == 125);
    CHECK(missing.err.find("--security-opt seccomp=/nonexistent/profile.json: cannot read") != std::string::npos);
    auto unknown = r.cli({"run", "--rm", "--security-opt", "privileged-ish=1", security_images().plain, "true"});
    CHECK(unknown.code == 125);
    CHECK(unknown.err.find("--security-opt \"privileged-ish=1\": unknown option") != std::string::npos);
    REQUIRE(ctr::sys::write_file_atomic(work.path() / "bad.json", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOPE"}]})", 0644));
    auto bad = r.cli({"run", "--rm", "--security-opt", "seccomp=" + (work.path() / "bad.json").string(), security_images().plain, "true"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("seccomp profile: syscalls[0].action \"SCMP_ACT_NOPE\" is not a seccomp action") != std::string::npos);
    auto listed = r.cli({"list", "--all", "--format", "json"});
    CHECK_MESSAGE(json::parse(listed.out).empty(), listed.out << listed.err);  // nothing half made
}

TEST_CASE("devices: denied unless allowed; --device gives one with its permissions; --privileged gives them all" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    // mknod is allowed (Docker's rules), opening the node is not: here the
    // loop devices' control node, outside the default set (opening it does
    // nothing to it).
    const std::string raw = "busybox mknod /tmp/node c 10 237 && : < /tmp/node && echo opened";
    auto denied = r.cli({"run", "--rm", security_images().plain, "sh", "-c", raw});
    CHECK(denied.out.find("opened") == std::string::npos);
    CHECK(denied.err.find("Operation not permitted") != std::string::npos);
    auto privileged = r.cli({"run", "--rm", "--privileged", security_images().plain, "sh", "-c", raw});
    CHECK_MESSAGE(privileged.out == "opened\n", privileged.err);  // the same probe, the device rules off

    // A device outside the default set, read-only: it opens for reading,
    // not for writing (opening either does nothing to it).
    const std::string dev = fs::exists("/dev/loop-control") ? "/dev/loop-control" : "/dev/fuse";
    REQUIRE(fs::exists(dev));
    const std::string open_both = ": < /dev/d && echo opened; sh -c ': > /dev/d' 2>/dev/null && echo writable || echo refused";
    auto ro = r.cli({"run", "--rm", "--device", dev + ":/dev/d:r", security_images().plain, "sh", "-c", open_both});
    CHECK(ro.out == "opened\nrefused\n");
    auto rw_dev = r.cli({"run", "--rm", "--device", dev + ":/dev/d", security_images().plain, "sh", "-c", open_both});
    CHECK(rw_dev.out == "opened\nwritable\n");
    auto rw = r.cli({"run", "--rm", "--device", "/dev/null:/dev/mynull", security_images().plain, "sh", "-c", "echo x > /dev/mynull && echo wrote"});
    CHECK(rw.out == "wrote\n");
    auto not_device = r.cli({"run", "--rm", "--device", "/etc/hostname", security_images().plain, "true"});
    CHECK(not_device.code == 125);
    CHECK(not_device.err.find("--device /etc/hostname: not a character or block device") != std::string::npos);
    auto bad = r.cli({"run", "--rm", "--device", "/dev/null:/dev/n:rwx", security_images().plain, "true"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("--device \"/dev/null:/dev/n:rwx\": permissions are made of r, w and m") != std::string::npos);
}

TEST_CASE("--privileged: every capability, no seccomp, writable /sys, no masked paths, and inspect says so" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    std::string host_bounding;
    {
        std::ifstream in("/proc/self/status");
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("CapBnd:", 0) == 0) host_bounding = line.substr(line.find_first_not_of(" \t", 7));
    }
    const std::string probe = "grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status; grep ' /sys ' /proc/mounts; cat /proc/kcore | head -c 1 | wc -c";
    auto plain = r.cli({"run", "--rm", security_images().plain, "sh", "-c", probe});
    CHECK(plain.out.find("CapEff:\t" + host_bounding) == std::string::npos);
    CHECK(plain.out.find("Seccomp:\t2") != std::string::npos);
    CHECK(plain.out.find("NoNewPrivs:\t1") != std::string::npos);
    CHECK(plain.out.find("sysfs ro,") != std::string::npos);
    REQUIRE(r.cli({"run", "-d", "--name", "p", "--privileged", security_images().plain, "sleep", "60"}).code == 0);
    auto priv = r.cli({"exec", "p", "sh", "-c", probe});
    CHECK(priv.out.find("CapEff:\t" + host_bounding) != std::string::npos);
    CHECK(priv.out.find("Seccomp:\t0") != std::string::npos);
    CHECK(priv.out.find("NoNewPrivs:\t0") != std::string::npos);
    CHECK(priv.out.find("sysfs rw,") != std::string::npos);
    CHECK(json::parse(r.cli({"inspect", "p"}).out)[0]["config"]["privileged"] == true);
    CHECK(r.cli({"rm", "-f", "p"}).code == 0);
}

TEST_CASE("--sysctl sets namespaced parameters and refuses the host's; --cgroupns private hides the host's cgroup paths; /dev/pts has gid 5" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto set = r.cli({"run", "--rm", "--sysctl", "net.ipv4.ip_unprivileged_port_start=80", "--sysctl", "kernel.shmmni=1000", security_images().plain,
                      "sh", "-c", "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shmmni"});
    CHECK_MESSAGE(set.out == "80\n1000\n", set.err);
    auto host_wide = r.cli({"run", "--rm", "--sysctl", "vm.swappiness=1", security_images().plain, "true"});
    CHECK(host_wide.code == 125);
    CHECK(host_wide.err.find("--sysctl vm.swappiness: not kept per container by the kernel, it would change the host") != std::string::npos);
    auto host_net = r.cli({"run", "--rm", "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", security_images().plain, "true"});
    CHECK(host_net.code == 125);
    CHECK(host_net.err.find("with --network host it would change the host's network") != std::string::npos);

    // With its own cgroup namespace, the container's cgroups are its root.
    auto priv = r.cli({"run", "--rm", "--cgroupns", "private", security_images().plain, "cat", "/proc/self/cgroup"});
    REQUIRE(priv.code == 0);
    CHECK(priv.out.find(r.cgroup_parent()) == std::string::npos);
    auto host = r.cli({"run", "--rm", "--cgroupns", "host", security_images().plain, "cat", "/proc/self/cgroup"});
    CHECK(host.out.find(r.cgroup_parent()) != std::string::npos);
    CHECK(r.cli({"run", "--rm", security_images().plain, "grep", "devpts", "/proc/mounts"}).out.find("gid=5") != std::string::npos);
}

TEST_CASE("no host file descriptor reaches the container (CVE-2024-21626 class)" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    // sh stays PID 1 (the command is not its last), and holds its stdio and nothing else.
    auto fds = r.cli({"run", "--rm", security_images().plain, "sh", "-c", "ls /proc/1/fd; true"});
    REQUIRE(fds.code == 0);
    CHECK(fds.out == "0\n1\n2\n");
    // The same for a process started by exec: its own descriptors ($$ is
    // the exec'd shell, not the container's init).
    REQUIRE(r.cli({"run", "-d", "--name", "fdscan", security_images().plain, "sleep", "60"}).code == 0);
    auto own = r.cli({"exec", "fdscan", "sh", "-c", "ls /proc/$$/fd; echo pid $$; true"});
    CHECK(own.out.find("0\n1\n2\npid ") == 0);
    CHECK(own.out.find("pid 1\n") == std::string::npos);
    // And a working directory through one of the exec's descriptors stays inside.
    for (int fd = 3; fd < 8; ++fd) {
        CAPTURE(fd);
        auto res = r.cli({"exec", "-w", "/proc/self/fd/" + std::to_string(fd), "fdscan", "pwd"});
        if (res.code == 0) CHECK(res.out.find(r.root()) == std::string::npos);  // refused, or inside
    }
    CHECK(r.cli({"rm", "-f", "fdscan"}).code == 0);
}

TEST_CASE("a working directory through /proc/self/fd or a relative one is refused or stays inside" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    for (int fd = 3; fd < 8; ++fd) {
        auto res = r.cli({"run", "--rm", "-w", "/proc/self/fd/" + std::to_string(fd), security_images().plain, "pwd"});
        CAPTURE(fd);
        // Either the runtime refuses it, or the process runs inside the container.
        if (res.code == 0) CHECK(res.out.find(r.root()) == std::string::npos);
        else CHECK(res.err.find("chdir") != std::string::npos);
    }
    auto rel = r.cli({"run", "--rm", "-w", "relative/dir", security_images().plain, "pwd"});
    CHECK(rel.code == 125);
    CHECK(rel.err.find("workdir must be an absolute path") != std::string::npos);
}

TEST_CASE("an image whose /proc is a symlink cannot redirect the proc mount" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto res = r.cli({"run", "--rm", security_images().proc_link, "sh", "-c", "cat /proc/self/status | head -1"});
    // The runtime refuses it, or mounts procfs inside the container.
    if (res.code == 0) CHECK(res.out.find("Name:") == 0);
    else CHECK(res.code == 125);
    if (res.code != 0) return;
    // Where procfs went, seen in the container's own mount namespace (from
    // the host, through its init's mountinfo): one proc mount, on a path of
    // the container's, the symlink's target resolved inside its root.
    REQUIRE(r.cli({"run", "-d", "--name", "pl", security_images().proc_link, "sleep", "60"}).code == 0);
    auto pid = json::parse(r.cli({"inspect", "pl"}).out)[0]["pid"].get<int64_t>();
    auto info = ctr::sys::read_file("/proc/" + std::to_string(pid) + "/mountinfo");
    REQUIRE(info);
    std::vector<std::string> proc_mounts;
    std::istringstream lines(*info);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream f(line);
        std::string id, parent, dev, root, target, rest;
        f >> id >> parent >> dev >> root >> target;
        auto dash = line.find(" - ");
        if (dash != std::string::npos && line.compare(dash + 3, 5, "proc ") == 0) proc_mounts.push_back(target);
    }
    INFO(*info);
    REQUIRE(proc_mounts.size() >= 1);
    CHECK((proc_mounts[0] == "/proc" || proc_mounts[0] == "/tmp"));
    for (const auto& m : proc_mounts) CHECK(m.rfind(r.root(), 0) != 0);  // never a path of the host's
    CHECK(r.cli({"rm", "-f", "pl"}).code == 0);
}

TEST_CASE("state directories are not open to other users (CVE-2021-41091)" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "s", security_images().plain, "sleep", "60"}).code == 0);
    for (const char* dir : {"var/lib/container", "run/container", "var/log/container"}) {
        CAPTURE(dir);
        struct stat st {};
        REQUIRE(::stat((r.path() / dir).c_str(), &st) == 0);
        CHECK((st.st_mode & 0077) == 0);
    }
    CHECK(r.cli({"rm", "-f", "s"}).code == 0);
}

TEST_CASE("the API sockets: root's alone, or also the members' of the group [api] group names, when it exists" * CTR_NEEDS_ROOT) {
    // A group and two users of this test's own, removed after.
    const std::string tag = std::to_string(::getpid()), group = "ctrg" + tag, member = "ctrm" + tag, other = "ctro" + tag;
    struct Accounts {
        std::string group, member, other;
        ~Accounts() {
            for (const auto& u : {member, other}) (void)std::system(("userdel " + u + " 2>/dev/null").c_str());
            (void)std::system(("groupdel " + group + " 2>/dev/null").c_str());
        }
    } accounts{group, member, other};
    REQUIRE(std::system(("groupadd " + group).c_str()) == 0);
    REQUIRE(std::system(("useradd -M -N -g nogroup -G " + group + " -s /usr/sbin/nologin " + member).c_str()) == 0);
    REQUIRE(std::system(("useradd -M -N -g nogroup -s /usr/sbin/nologin " + other).c_str()) == 0);

    DaemonRoot r;
    ::chmod(r.path().c_str(), 0755);  // the scratch root itself: anyone may pass
    auto as = [&](const std::string& user, const std::vector<std::string>& args) {
        std::vector<std::string> argv = {"--reuid=" + user, "--regid=nogroup", "--init-groups", (ctr::test::build_root() / "host/container").string(),
                                         "--root", r.path().string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return ctr::test::run("/usr/bin/setpriv", argv);
    };
    auto mode_of = [](const fs::path& p) {
        struct stat st {};
        REQUIRE(::stat(p.c_str(), &st) == 0);
        return std::pair<unsigned, gid_t>{st.st_mode & 07777, st.st_gid};
    };
    // No group of the default name here: 0600, and a user is refused.
    REQUIRE(r.cli({"ls"}).code == 0);
    const fs::path sock = r.path() / "run/container/api.sock", docker = r.path() / "run/container/docker.sock";
    CHECK(mode_of(sock).first == 0600);
    CHECK(mode_of(docker).first == 0600);
    CHECK(as(member, {"ls"}).code != 0);

    // The group named in the config: 0660 sockets of that group, a run folder it may pass.
    REQUIRE(r.cli({"system", "stop"}).code == 0);
    REQUIRE(ctr::sys::make_dirs(r.path() / "etc/container"));
    REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml", "[api]\ngroup = \"" + group + "\"\n"));
    REQUIRE(r.cli({"ls"}).code == 0);
    const gid_t gid = mode_of(sock).second;
    CHECK(mode_of(sock).first == 0660);
    CHECK(mode_of(docker) == std::pair<unsigned, gid_t>{0660, gid});
    CHECK(mode_of(r.path() / "run/container").first == 0710);
    CHECK(gid != 0);
    auto used = as(member, {"ls", "--format", "json"});
    CHECK_MESSAGE(used.code == 0, used.err);
    CHECK(used.out == "[]\n");
    auto refused = as(other, {"ls"});
    CHECK(refused.code != 0);
    CHECK(refused.err.find("ermission denied") != std::string::npos);
    // The state stays root's alone.
    CHECK((mode_of(r.path() / "var/lib/container").first & 0077) == 0);
}

TEST_CASE("bad input: names, sizes, limits, programs, double starts (rows 35-43, 50)" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const std::string& img = security_images().plain;
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
    auto many = r.cli({"run", "--rm", "--cpus", "999", img, "true"});  // more than the host has
    CHECK(many.code == 125);
    CHECK_MESSAGE(many.err.find("--cpus 999: the range is from 0.01 to") != std::string::npos, many.err);
    CHECK(many.err.find("CPUs") != std::string::npos);
    CHECK(r.cli({"run", "--rm", "--pids-limit", "-5", img, "true"}).code == 125);
    auto noexec = r.cli({"run", "--rm", security_images().not_exec, "/bin/script"});
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
