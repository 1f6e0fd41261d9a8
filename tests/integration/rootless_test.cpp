// Rootless (docs/rootless.md): an ordinary user made for the test, with
// ranges in /etc/subuid and /etc/subgid (useradd gives them), runs
// `container` without root: its own daemon under ~/.local/share/container
// in a user namespace, networks in its own network namespace, ports
// published by the daemon. A second user without ranges gets the single-id
// mapping and its warning. Both users and everything they ran are removed
// after; the host's network and the root daemon's state are never touched.
//
// The build tree may sit under a folder the users cannot pass (CI's clone
// under /root): each command then runs in a private mount namespace where
// that folder is covered with an open tmpfs holding the build tree alone,
// at its own path (the binaries find their plugins by it).
#include "tests/support/guest_kernel.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"
#include "tests/support/skip.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/netns.hpp>
#include <ctr/sys/unique_fd.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>
#include <ctr/sys/userns.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <pwd.h>
#include <set>
#include <sstream>
#include <algorithm>
#include <linux/magic.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using ctr::test::Run;
using ctr::test::ScratchDir;
namespace fs = std::filesystem;

namespace {

ctr::test::BusyboxRegistry& web_image() {
    static ctr::test::BusyboxRegistry s("for a in httpd wget touch seq ping; do ln -s busybox bin/$a; done && mkdir -p www && echo rootless-page > www/index.html");
    return s;
}

// In a private mount namespace: the build tree made reachable (see above),
// /dev/net/tun and /dev/fuse open to all as most distributions make them
// (this host's are root's alone) when the test asks, then the command as
// the user, with the user's own environment.
const char* const kAsUser = R"SH(set -e
u=$1 b=$2 stage=$3; shift 3
mask= p=
for part in $(echo "${b#/}" | tr / ' '); do
  p="$p/$part"
  if ! setpriv --reuid "$u" --regid "$u" --clear-groups test -x "$p"; then mask=$p; break; fi
done
if [ -n "$mask" ]; then
  mount --bind "$b" "$stage"
  mount -t tmpfs -o mode=0755 none "$mask"
  mkdir -p "$b"
  mount --bind "$stage" "$b"
fi
[ -n "$CTR_TEST_CGROUP" ] && echo $$ > "$CTR_TEST_CGROUP/cgroup.procs"
if [ -n "$CTR_TEST_TUN" ]; then
  mount -t tmpfs -o mode=0755 none "$CTR_TEST_TUN"
  mknod -m 0666 "$CTR_TEST_TUN/tun" c 10 200
  mount --bind "$CTR_TEST_TUN/tun" /dev/net/tun
fi
if [ -n "$CTR_TEST_FUSE" ]; then
  mount -t tmpfs -o mode=0755 none "$CTR_TEST_FUSE"
  mknod -m 0666 "$CTR_TEST_FUSE/fuse" c 10 229
  mount --bind "$CTR_TEST_FUSE/fuse" /dev/fuse
fi
cd /
exec setpriv --reuid "$u" --regid "$(id -g "$u")" --init-groups --reset-env \
  /usr/bin/env ${CTR_TEST_XDG_RUNTIME_DIR:+XDG_RUNTIME_DIR=$CTR_TEST_XDG_RUNTIME_DIR} "$@"
)SH";

// The pids whose real uid is `uid` (from /proc).
std::set<pid_t> processes_of(uid_t uid) {
    std::set<pid_t> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        const std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        struct stat st{};
        if (::stat(e.path().c_str(), &st) != 0 || st.st_uid != uid) continue;
        // A zombie is gone but for its parent's wait (init's, here).
        auto stat = ctr::sys::read_file(e.path() / "stat");
        if (stat && stat->find(") Z ") != std::string::npos) continue;
        out.insert(std::stoi(name));
    }
    return out;
}

std::string uid_line(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("Uid:", 0) == 0) return line;
    return "";
}

class TestUser {
public:
    explicit TestUser(const std::string& suffix, bool ranges) {
        ::chmod(dir_.path().c_str(), 0755);  // the user's home is inside
        stage_ = dir_.path() / "stage";
        fs::create_directories(stage_);
        name_ = "ctrrl" + std::to_string(::getpid()) + suffix;
        home_ = dir_.path() / "home";
        ctr::test::sh("useradd -m -d " + home_.string() + " -s /bin/sh " + name_);
        passwd* pw = ::getpwnam(name_.c_str());
        REQUIRE(pw != nullptr);
        uid_ = pw->pw_uid;
        if (!ranges) drop_ranges();
        // useradd gives ranges where login.defs says SUB_UID_COUNT; else ours,
        // high enough to meet no one's.
        if (ranges && ctr::sys::subordinate_ranges("/etc/subuid", name_, uid_).empty()) {
            const std::string from = std::to_string(3000000000ULL + (::getpid() % 4096) * 65536ULL + (suffix == "a" ? 0 : 32768));
            const std::string to = std::to_string(std::stoull(from) + 32767);
            ctr::test::sh("usermod --add-subuids " + from + "-" + to + " --add-subgids " + from + "-" + to + " " + name_);
        }
    }
    ~TestUser() {
        (void)cli({"rm", "-a", "-f"});
        (void)cli({"system", "stop"});
        // What is left of ours (a daemon that would not stop, a holder):
        // every one of them this test's, found by the user's uid.
        for (int i = 0; i < 50 && !processes_of(uid_).empty(); ++i) {
            for (pid_t pid : processes_of(uid_)) ::kill(pid, SIGKILL);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        drop_ranges();
        // userdel refuses while a process of the user's is not yet reaped
        // (a zombie this host's PID 1 is slow to collect): again, a while.
        for (int i = 0; i < 100; ++i) {
            auto r = ctr::sys::run_capture({"/usr/sbin/userdel", "-r", name_}, 20000);
            if (!r || r->status.success() || ::getpwnam(name_.c_str()) == nullptr) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }
    TestUser(const TestUser&) = delete;
    TestUser& operator=(const TestUser&) = delete;

    Run cli(const std::vector<std::string>& args, int timeout_ms = 120000) const {
        std::vector<std::string> argv = {"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", kAsUser, "sh",
                                         name_, ctr::test::build_root().string(), stage_.string(),
                                         (ctr::test::build_root() / "host/container").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        ctr::sys::RunOptions o;
        o.timeout_ms = timeout_ms;
        o.capture_stderr = true;
        o.env = {"CTR_TEST_CGROUP=" + cgroup_.string(), "CTR_TEST_TUN=" + (tun_ ? (dir_.path() / "tun").string() : ""),
                 "CTR_TEST_FUSE=" + (fuse_ ? (dir_.path() / "fuse").string() : ""),
                 "CTR_TEST_XDG_RUNTIME_DIR=" + runtime_dir_.string()};
        auto r = ctr::sys::run_capture(argv, o);
        REQUIRE(r);
        return Run{r->status.timed_out ? -1 : r->status.code, r->out, r->err};
    }
    uid_t uid() const { return uid_; }
    // The cgroup (a folder under /sys/fs/cgroup) every later command of the
    // user's starts in; none: the test's own.
    void start_in(const fs::path& cgroup) { cgroup_ = cgroup; }
    // Every later command of the user's has XDG_RUNTIME_DIR, a folder of
    // the user's (as a login session's /run/user/UID).
    void use_runtime_dir() {
        runtime_dir_ = dir_.path() / "xdg-run";
        fs::create_directories(runtime_dir_);
        ::chmod(runtime_dir_.c_str(), 0700);
        REQUIRE(::chown(runtime_dir_.c_str(), uid_, static_cast<gid_t>(-1)) == 0);
    }
    // Where the user's daemon keeps sockets and pids.
    fs::path run_dir() const { return runtime_dir_.empty() ? root() / "run/container" : runtime_dir_ / "container"; }
    // Every later command of the user's sees a /dev/net/tun of mode 0666
    // (in its own mount namespace: the host's device node is untouched).
    void open_tun() {
        fs::create_directories(dir_.path() / "tun");
        tun_ = true;
    }
    // The same for /dev/fuse.
    void open_fuse() {
        fs::create_directories(dir_.path() / "fuse");
        fuse_ = true;
    }
    // The user's system config (<root>/etc/container/config.toml), the
    // user's own file as if written by the user.
    void write_config(const std::string& text) {
        const fs::path etc = root() / "etc/container";
        fs::create_directories(etc);
        REQUIRE(ctr::sys::write_file_atomic(etc / "config.toml", text, 0644));
        for (fs::path p = etc / "config.toml"; p != home_; p = p.parent_path())
            REQUIRE(::chown(p.c_str(), uid_, static_cast<gid_t>(-1)) == 0);
    }
    const fs::path& home() const { return home_; }
    fs::path root() const { return home_ / ".local/share/container"; }

private:
    // The user's lines of /etc/subuid and /etc/subgid, as usermod removes them.
    void drop_ranges() {
        for (const char* f : {"/etc/subuid", "/etc/subgid"}) {
            auto text = ctr::sys::read_file(f);
            if (!text) continue;
            std::string kept, line;
            std::istringstream in(*text);
            bool changed = false;
            while (std::getline(in, line)) {
                if (line.rfind(name_ + ":", 0) == 0) changed = true;
                else kept += line + "\n";
            }
            if (changed) REQUIRE(ctr::sys::write_file_atomic(f, kept, 0644));
        }
    }
    ScratchDir dir_;
    fs::path stage_, home_, cgroup_, runtime_dir_;
    std::string name_;
    uid_t uid_ = 0;
    bool tun_ = false;
    bool fuse_ = false;
};

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

TEST_CASE("rootless: an ordinary user runs containers, networks, ports, volumes, exec, cp and compose without root" * CTR_NEEDS_ROOT) {
    const std::string image = web_image().image;
    TestUser user("a", true);
    user.open_tun();
    user.use_runtime_dir();

    auto pulled = user.cli({"image", "pull", image});
    INFO(pulled.err);
    REQUIRE(pulled.code == 0);
    CHECK(pulled.err.find("(rootless)") != std::string::npos);  // the first command started the user's daemon
    CHECK(pulled.err.find("warning") == std::string::npos);   // the user has ranges
    CHECK(fs::exists(user.root() / "var/lib/container/state.db"));
    // Sockets and pids in the session's runtime folder, not under the root.
    CHECK(fs::exists(user.run_dir() / "api.sock"));
    CHECK(!fs::exists(user.root() / "run/container/api.sock"));
    auto status = user.cli({"system", "status", "--format", "json"});
    auto sj = nlohmann::json::parse(status.out);
    CHECK(sj.value("rootless", false));
    CHECK(sj.value("id_mapping", "") == "subordinate ranges");
    CHECK(sj.value("outbound", "") == "slirp4netns");

    // uid 0 inside is the user outside.
    auto id = user.cli({"run", "--rm", image, "id", "-u"});
    INFO(id.err);
    CHECK(trim(id.out) == "0");
    REQUIRE(user.cli({"run", "-d", "--name", "idle", image, "sleep", "300"}).code == 0);
    const int pid = std::stoi(user.cli({"inspect", "-f", "{{.State.Pid}}", "idle"}).out);
    CHECK(uid_line(pid).find("\t" + std::to_string(user.uid()) + "\t") != std::string::npos);
    CHECK(trim(user.cli({"exec", "idle", "id", "-u"}).out) == "0");

    // A network of the user's: by name from one container to another, and
    // a port published on the host's loopback.
    const int port = ctr::test::free_port();
    REQUIRE(user.cli({"network", "create", "mynet"}).code == 0);
    auto web = user.cli({"run", "-d", "--name", "web", "--network", "mynet", "-p", "127.0.0.1:" + std::to_string(port) + ":80", image,
                         "httpd", "-f", "-p", "80", "-h", "/www"});
    INFO(web.err);
    REQUIRE(web.code == 0);
    auto fetched = user.cli({"run", "--rm", "--network", "mynet", image, "wget", "-q", "-O", "-", "http://web/"});
    INFO(fetched.err);
    CHECK(trim(fetched.out) == "rootless-page");
    // A VM container of the user's (runtime-microvm, emulated here): its
    // kernel set by the user (the test boot runs in a user namespace of the
    // user's), on the same network, reaching the other container by name.
    if (ctr::test::have_qemu()) {
        auto kernel = user.cli({"system", "kernel", "set", "--package", ctr::test::kernel_package().string()});
        INFO(kernel.err);
        REQUIRE(kernel.code == 0);
        auto vm = user.cli({"run", "--rm", "--runtime", "microvm", "--network", "mynet", image, "wget", "-q", "-O", "-", "http://web/"});
        INFO(vm.err);
        CHECK(trim(vm.out) == "rootless-page");
    } else {
        // CI has QEMU: there the step may not go missing unseen.
        const char* ci = std::getenv("CI");
        REQUIRE_MESSAGE(!(ci && std::string(ci) == "true"), "no QEMU on CI: the VM container step cannot run");
        MESSAGE("no QEMU here: the VM container step is left out");
    }
    // Out of the user's network namespace through slirp4netns: its gateway
    // (which nothing but slirp4netns answers) from a container on a bridge.
    auto out = user.cli({"run", "--rm", "--network", "mynet", image, "ping", "-c", "1", "-W", "5", "10.0.2.2"});
    INFO(out.out << out.err);
    CHECK(out.out.find("1 packets received") != std::string::npos);
    std::string page;
    for (int i = 0; i < 50 && page.empty(); ++i) {
        page = ctr::test::http_get("127.0.0.1", port);
        if (page.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(page.find("rootless-page") != std::string::npos);

    // -p without a host port: chosen on the host, where the daemon listens.
    // The user's network namespace is made to offer one port only, which
    // the host has taken: a port chosen there could not be had.
    {
        const auto taken = ctr::test::hold_port();
        const std::string held = std::to_string(taken.port);
        // The user's network namespace as its network plugin's process holds
        // it (the daemon's pin of it is a mount in the user's mount namespace).
        const pid_t daemon = std::stoi(*ctr::sys::read_file(user.run_dir() / "apiserver.pid"));
        std::string netns;
        for (const auto& p : ctr::sys::list_processes([](pid_t) { return true; }))
            if (p.ppid == daemon && p.command.find("network-vmnet/config.toml") != std::string::npos)
                netns = "/proc/" + std::to_string(p.pid) + "/ns/net";
        REQUIRE_FALSE(netns.empty());
        auto narrowed = ctr::sys::write_in_netns(netns, "/proc/sys/net/ipv4/ip_local_port_range", held + " " + held);
        REQUIRE_MESSAGE(narrowed, (narrowed ? "" : narrowed.error().message));
        auto any = user.cli({"run", "-d", "--name", "anyport", "--network", "mynet", "-p", "127.0.0.1::80", image, "httpd", "-f", "-p", "80", "-h", "/www"});
        INFO(any.err);
        REQUIRE(any.code == 0);
        const std::string chosen = trim(user.cli({"port", "anyport", "80"}).out);
        REQUIRE(chosen.rfind("127.0.0.1:", 0) == 0);
        CHECK(chosen != "127.0.0.1:" + held);
        std::string got;
        for (int i = 0; i < 50 && got.empty(); ++i) {
            got = ctr::test::http_get("127.0.0.1", std::stoi(chosen.substr(10)));
            if (got.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        CHECK(got.find("rootless-page") != std::string::npos);
        CHECK(user.cli({"rm", "-f", "anyport"}).code == 0);
    }

    // The daemon killed: the next one joins the namespaces the containers
    // live in and publishes their ports again.
    auto daemon_pid = ctr::sys::read_file(user.run_dir() / "apiserver.pid");
    REQUIRE(daemon_pid);
    ::kill(std::stoi(*daemon_pid), SIGKILL);
    for (int i = 0; i < 100 && ::kill(std::stoi(*daemon_pid), 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto after = user.cli({"ls", "-q", "--filter", "name=web"});
    CHECK(!trim(after.out).empty());
    CHECK(ctr::test::http_get("127.0.0.1", port).find("rootless-page") != std::string::npos);
    CHECK(trim(user.cli({"exec", "web", "cat", "/www/index.html"}).out) == "rootless-page");

    // A named volume written by one container, read by another.
    REQUIRE(user.cli({"run", "--rm", "-v", "shared:/data", image, "sh", "-c", "echo kept > /data/f"}).code == 0);
    CHECK(trim(user.cli({"run", "--rm", "-v", "shared:/data", image, "cat", "/data/f"}).out) == "kept");

    // Files a container makes in a bind-mounted folder are the user's.
    const fs::path bound = user.home() / "bound";
    REQUIRE(user.cli({"run", "--rm", "-v", user.home().string() + ":/h", image, "sh", "-c", "mkdir /h/bound && echo x > /h/bound/made"}).code == 0);
    struct stat st{};
    REQUIRE(::stat((bound / "made").c_str(), &st) == 0);
    CHECK(st.st_uid == user.uid());

    // cp both ways.
    REQUIRE(user.cli({"cp", "idle:/etc/passwd", (user.home() / "passwd.copy").string()}).code == 0);
    REQUIRE(::stat((user.home() / "passwd.copy").c_str(), &st) == 0);
    CHECK(st.st_uid == user.uid());
    REQUIRE(user.cli({"cp", (bound / "made").string(), "idle:/tmp/made"}).code == 0);
    CHECK(trim(user.cli({"exec", "idle", "cat", "/tmp/made"}).out) == "x");

    // compose up and down.
    const fs::path project = user.home() / "proj";
    fs::create_directories(project);
    REQUIRE(ctr::sys::write_file_atomic(project / "compose.yaml",
                                        "services:\n  app:\n    image: " + image + "\n    command: [\"sleep\", \"300\"]\n", 0644));
    ::chown(project.c_str(), user.uid(), static_cast<gid_t>(-1));
    const std::string file = (project / "compose.yaml").string();
    auto up = user.cli({"compose", "-f", file, "up", "-d"});
    INFO(up.err);
    CHECK(up.code == 0);
    CHECK(user.cli({"compose", "-f", file, "ps", "--format", "json"}).out.find("running") != std::string::npos);
    CHECK(user.cli({"compose", "-f", file, "down"}).code == 0);
    CHECK(user.cli({"compose", "-f", file, "ps", "-q"}).out.empty());

    // Bad input: a privileged port, a limit without a delegated cgroup.
    auto low = user.cli({"run", "-d", "-p", "80:80", image, "true"});
    CHECK(low.code == 125);
    CHECK(low.err.find("net.ipv4.ip_unprivileged_port_start") != std::string::npos);
    auto mem = user.cli({"run", "--rm", "-m", "64m", image, "true"});
    CHECK(mem.code == 125);
    CHECK(mem.err.find("--memory") != std::string::npos);
    CHECK(mem.err.find("delegated") != std::string::npos);
    // Nothing to freeze without a cgroup: pause refused by name (commit,
    // below, goes on unpaused then).
    auto pause = user.cli({"pause", "idle"});
    CHECK(pause.code == 125);
    CHECK(pause.err.find("no cgroup") != std::string::npos);

    // A second user at once: its own daemon and state, nothing of the
    // first's. Its containers' root filesystems are fuse-overlayfs mounts
    // (its config says so, as a kernel that refuses overlay in a user
    // namespace would have it).
    {
        TestUser other("b", false);
        other.open_fuse();
        other.write_config("[plugins.image-oci]\noverlay = \"fuse\"\n");
        auto first = other.cli({"run", "--rm", image, "id", "-u"});
        INFO(first.err);
        CHECK(first.code == 0);
        CHECK(trim(first.out) == "0");
        CHECK(first.err.find("warning: no ranges for") != std::string::npos);  // the single-id mapping, said
        // A container's root on fuse-overlayfs: a file deleted, a directory
        // made anew (opaque), a file added; diff says so, and an image
        // committed from it has exactly them.
        REQUIRE(other.cli({"run", "-d", "--name", "fz", image, "sleep", "300"}).code == 0);
        const pid_t other_daemon = std::stoi(*ctr::sys::read_file(other.run_dir() / "apiserver.pid"));
        auto mounts = ctr::sys::read_file("/proc/" + std::to_string(other_daemon) + "/mountinfo");
        REQUIRE(mounts);
        CHECK(mounts->find(" - fuse.fuse-overlayfs ") != std::string::npos);
        auto changed = other.cli({"exec", "fz", "sh", "-c", "busybox rm /bin/true && busybox rm -rf /www && busybox mkdir /www && echo fresh > /www/new"});
        INFO(changed.err);
        REQUIRE(changed.code == 0);
        auto diff = other.cli({"diff", "fz"});
        INFO(diff.err);
        CHECK(diff.out.find("D /bin/true\n") != std::string::npos);
        CHECK(diff.out.find("C /www\n") != std::string::npos);
        CHECK(diff.out.find("A /www/new\n") != std::string::npos);
        CHECK(diff.out.find("wh.") == std::string::npos);
        auto committed = other.cli({"commit", "fz", "fused:1"});
        INFO(committed.err);
        REQUIRE(committed.code == 0);
        auto listed = other.cli({"run", "--rm", "fused:1", "sh", "-c", "ls -a /www; test -e /bin/true && echo still"});
        INFO(listed.err);
        CHECK(listed.out == ".\n..\nnew\n");
        CHECK(other.cli({"rm", "-f", "fz"}).code == 0);
        // No VM container without subordinate ids, said by name.
        auto vm = other.cli({"run", "--rm", "--runtime", "microvm", image, "true"});
        CHECK(vm.code == 125);
        CHECK(vm.err.find("need the user's subordinate ids") != std::string::npos);
        CHECK(trim(other.cli({"ls", "-a", "-q"}).out).empty());
        CHECK(other.cli({"inspect", "web"}).code != 0);
        auto os = nlohmann::json::parse(other.cli({"system", "status", "--format", "json"}).out);
        CHECK(os.value("id_mapping", "") == "single id");
        // This host's /dev/net/tun is root's alone (the guest's too, but for
        // the first user's): no way out, and why.
        if ((fs::status("/dev/net/tun").permissions() & fs::perms::others_write) == fs::perms::none)
            CHECK(os.value("outbound", "").find("none: /dev/net/tun cannot be opened") == 0);
    }
    CHECK(!trim(user.cli({"ls", "-q", "--filter", "name=web"}).out).empty());  // the first user's untouched

    // All removed, the daemon stopped: no process of the user's is left
    // (the holder ends with the last container), so no mount or network
    // namespace of theirs either.
    REQUIRE(user.cli({"rm", "-a", "-f"}).code == 0);
    REQUIRE(user.cli({"network", "rm", "mynet"}).code == 0);
    REQUIRE(user.cli({"system", "stop"}).code == 0);
    std::set<pid_t> left;
    for (int i = 0; i < 100; ++i) {
        left = processes_of(user.uid());
        if (left.empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::string names;
    for (pid_t p : left) names += " " + std::to_string(p) + ":" + [&] {
        auto c = ctr::sys::read_file("/proc/" + std::to_string(p) + "/cmdline");
        return c ? c->substr(0, c->find('\0')) : std::string("?");
    }();
    INFO("left:" << names);
    CHECK(left.empty());
    CHECK(ctr::test::http_get("127.0.0.1", port).empty());
}

namespace {

bool cgroup2_only() {
    struct statfs fs{};
    return ::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

// A cgroup v2 subtree given to a user as systemd gives user@UID.service
// with Delegate=yes: the folder and its files are the user's, the
// controllers reach it, and the user's processes start in a leaf below.
class Delegation {
public:
    explicit Delegation(uid_t uid) : dir_("/sys/fs/cgroup/ctr-rootless-" + std::to_string(::getpid())) {
        fs::create_directories(dir_ / "session");
        for (const auto& p : {dir_, dir_ / "cgroup.procs", dir_ / "cgroup.subtree_control", dir_ / "cgroup.threads", dir_ / "session",
                              dir_ / "session/cgroup.procs", dir_ / "session/cgroup.subtree_control", dir_ / "session/cgroup.threads"})
            REQUIRE(::chown(p.c_str(), uid, static_cast<gid_t>(-1)) == 0);
    }
    ~Delegation() {
        // Deepest first; each is empty once the user's processes are gone.
        std::vector<fs::path> all;
        std::error_code ec;
        for (const auto& e : fs::recursive_directory_iterator(dir_, ec))
            if (e.is_directory(ec)) all.push_back(e.path());
        std::sort(all.rbegin(), all.rend());
        for (const auto& d : all) ::rmdir(d.c_str());
        ::rmdir(dir_.c_str());
    }
    const fs::path& dir() const { return dir_; }

private:
    fs::path dir_;
};

std::string cgroup_of(pid_t pid) {
    auto text = ctr::sys::read_file("/proc/" + std::to_string(pid) + "/cgroup");
    if (!text || text->rfind("0::", 0) != 0) return "";
    return trim(text->substr(3));
}

}  // namespace

TEST_CASE("rootless: resource limits are enforced in a delegated cgroup v2 subtree, and refused by name without one" * CTR_NEEDS_ROOT) {
    const std::string image = web_image().image;
    TestUser user("c", true);
    if (!cgroup2_only()) {
        // A v1 or hybrid host (this one's kind): nothing can be delegated.
        auto mem = user.cli({"run", "--rm", "-m", "32m", image, "true"});
        CHECK(mem.code == 125);
        CHECK(mem.err.find("delegated") != std::string::npos);
        auto status = nlohmann::json::parse(user.cli({"system", "status", "--format", "json"}).out);
        CHECK(status["cgroup"].value("version", "") == "none");
        return;
    }
    Delegation delegated(user.uid());
    user.start_in(delegated.dir() / "session");
    user.open_tun();
    auto run = user.cli({"run", "-d", "--name", "limited", "-m", "32m", "--pids-limit", "20", image, "sleep", "300"});
    INFO(run.err);
    REQUIRE(run.code == 0);
    auto status = nlohmann::json::parse(user.cli({"system", "status", "--format", "json"}).out);
    CHECK(status["cgroup"].value("delegated", "") == "/" + delegated.dir().filename().string());
    const int pid = std::stoi(user.cli({"inspect", "-f", "{{.State.Pid}}", "limited"}).out);
    const std::string cg = cgroup_of(pid);
    INFO("cgroup " << cg);
    CHECK(cg.rfind("/" + delegated.dir().filename().string() + "/container-", 0) == 0);
    const fs::path dir = fs::path("/sys/fs/cgroup") / fs::path(cg).relative_path();
    auto file = [&](const char* name) {
        auto t = ctr::sys::read_file(dir / name);
        return t ? trim(*t) : std::string();
    };
    CHECK(file("memory.max") == "33554432");
    CHECK(file("pids.max") == "20");
    // An exec'd process joins the container's cgroup.
    auto in_exec = user.cli({"exec", "limited", "cat", "/proc/self/cgroup"});
    INFO("exec: " << in_exec.err);
    CHECK(trim(in_exec.out) == "0::/");  // its own cgroup namespace's root
    auto joined = user.cli({"exec", "-d", "limited", "sleep", "301"});
    CHECK(joined.code == 0);
    bool found = false;
    for (int i = 0; i < 50 && !found; ++i) {
        auto procs = ctr::sys::read_file(dir / "cgroup.procs");
        found = procs && procs->find('\n') != procs->rfind('\n');  // a second process
        if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(found);
    // Enforced: the container cannot start a 21st process.
    auto forks = user.cli({"run", "--rm", "--pids-limit", "20", image, "sh", "-c", "for i in $(seq 30); do sleep 5 & done; wait"});
    CHECK((forks.out + forks.err).find("can't fork") != std::string::npos);

    // Out through slirp4netns over TCP to an address of the host's own (the
    // guest's interface, which tests/guest/inside.sh names: this host's
    // would be traffic beyond loopback).
    if (const char* addr = std::getenv("CTR_TEST_HOST_ADDR")) {
        ScratchDir www;
        REQUIRE(ctr::sys::write_file_atomic(www.path() / "index.html", "outbound-page\n", 0644));
        const std::string where = std::string(addr) + ":" + std::to_string(ctr::test::free_port());
        ctr::sys::SpawnOptions so;
        auto httpd = ctr::sys::spawn({"/bin/busybox", "httpd", "-f", "-p", where, "-h", www.path().string()}, so);
        REQUIRE(httpd);
        Run fetched;
        for (int i = 0; i < 3 && fetched.out.find("outbound-page") == std::string::npos; ++i)
            fetched = user.cli({"run", "--rm", image, "wget", "-q", "-O", "-", "http://" + where + "/"});
        const bool httpd_ran = ::waitpid(*httpd, nullptr, WNOHANG) == 0;
        ::kill(*httpd, SIGTERM);
        ::waitpid(*httpd, nullptr, 0);
        auto slirp_log = ctr::sys::read_file(user.run_dir() / "slirp4netns.log");
        INFO("wget (exit " << fetched.code << "): " << fetched.err << "\nstatus: " << user.cli({"system", "status", "--format", "json"}).out
                      << "\nslirp4netns: " << (slirp_log ? *slirp_log : "no log") << "\nhttpd running: " << httpd_ran);
        CHECK(fetched.out.find("outbound-page") != std::string::npos);
    }
    REQUIRE(user.cli({"rm", "-f", "limited"}).code == 0);
    REQUIRE(user.cli({"system", "stop"}).code == 0);
    for (int i = 0; i < 100 && !processes_of(user.uid()).empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(processes_of(user.uid()).empty());
    CHECK(!fs::exists(dir));  // the container's cgroup went with it
}
