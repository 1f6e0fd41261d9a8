// container-oci against runc, on the same bundles: each step is run by both
// and must answer alike (exit status, state, pid file, error wording),
// since engines written for runc read our answers as runc's.
#include "tests/support/run.hpp"
#include "tests/support/skip.hpp"
#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/console.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <future>
#include <thread>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using ctr::test::ScratchDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Oci {
    std::string name, binary;
    fs::path root, dir;
    std::string redirects;  // more of the shell's redirections (fds for --preserve-fds)
    // Runs a command with stdio in files (a container keeps what it is
    // given open: a pipe of ours would not end while it runs).
    ctr::test::Run operator()(const std::vector<std::string>& args, const std::string& input = "") const {
        static std::atomic<int> n{0};
        const fs::path out = dir / ("out" + std::to_string(++n)), err = dir / ("err" + std::to_string(n)), in = dir / ("in" + std::to_string(n));
        std::ofstream(in) << input;
        std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" <'" + in.string() + "' >'" + out.string() + "' 2>'" + err.string() + "' " + redirects,
                                         binary, "--root", root.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        ctr::sys::RunOptions o;
        o.timeout_ms = 60000;
        auto r = ctr::sys::run_capture(argv, o);
        REQUIRE(r);
        ctr::test::Run res;
        res.code = r->status.signal ? 128 + r->status.signal : r->status.code;
        auto o_text = ctr::sys::read_file(out), e_text = ctr::sys::read_file(err);
        res.out = o_text ? *o_text : "";
        res.err = e_text ? *e_text : "";
        return res;
    }
    std::string status(const std::string& id) const {
        auto r = (*this)({"state", id});
        if (r.code != 0) return "gone";
        return json::parse(r.out).value("status", "");
    }
    bool becomes(const std::string& id, const std::string& want) const {
        for (int i = 0; i < 250; ++i) {
            if (status(id) == want) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }
};

// A bundle: Debian's static busybox as the root, runc's default spec with
// `args` and no terminal.
fs::path make_bundle(const fs::path& dir, const std::vector<std::string>& args) {
    fs::create_directories(dir / "rootfs/bin");
    fs::copy_file("/bin/busybox", dir / "rootfs/bin/busybox");
    for (const char* applet : {"sh", "echo", "sleep", "cat", "kill", "true", "ls"}) fs::create_symlink("busybox", dir / "rootfs/bin" / applet);
    auto spec = ctr::test::run("host/container-oci", {"spec", "--bundle", dir.string()});
    REQUIRE_MESSAGE(spec.code == 0, spec.err);
    auto config = json::parse(*ctr::sys::read_file(dir / "config.json"));
    config["process"]["terminal"] = false;
    config["process"]["args"] = args;
    REQUIRE(ctr::sys::write_file_atomic(dir / "config.json", config.dump()));
    return dir;
}

std::vector<Oci> both(const ScratchDir& d) {
    std::vector<Oci> out = {{"runc", ctr::sys::find_program("runc"), d.path() / "runc-root", d.path() / "runc"},
                            {"container-oci", (ctr::test::build_root() / "host/container-oci").string(), d.path() / "oci-root", d.path() / "oci"}};
    for (auto& o : out) fs::create_directories(o.dir);
    REQUIRE_FALSE(out[0].binary.empty());
    return out;
}

std::string unique(const std::string& base) { return base + "-" + std::to_string(::getpid()); }

// The engine's end of --console-socket: a unix socket that receives the
// terminal's master by SCM_RIGHTS; then what the container writes on it.
class ConsoleSocket {
public:
    explicit ConsoleSocket(const fs::path& path) : path_(path) {
        listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(listener_, 1) == 0);
    }
    ~ConsoleSocket() { ::close(listener_); }
    // The master, once the runtime has sent it (within 10 s); -1 otherwise.
    int master() {
        if (!master_.valid())
            if (auto m = ctr::sys::receive_console(listener_, 10000)) master_ = std::move(*m);
        return master_.get();
    }
    // What came on the terminal until `want` appeared (or 10 s passed).
    std::string read_until(const std::string& want) {
        std::string got;
        for (int i = 0; i < 100 && got.find(want) == std::string::npos; ++i) {
            pollfd p{master(), POLLIN, 0};
            if (::poll(&p, 1, 100) == 1) {
                char buf[256];
                ssize_t n = ::read(p.fd, buf, sizeof buf);
                if (n <= 0) break;
                got.append(buf, static_cast<size_t>(n));
            }
        }
        return got;
    }

private:
    fs::path path_;
    int listener_ = -1;
    ctr::sys::UniqueFd master_;
};

}  // namespace

TEST_CASE("container-oci and runc alike: create, state, start, kill, delete, pid files and runc's error words" * CTR_NEEDS_ROOT) {
    ScratchDir d;
    const fs::path bundle = make_bundle(d.path() / "bundle", {"sleep", "30"});
    // A seccomp section, which runtime-linux compiles for crun under our
    // daemon only: an engine's bundle is left as the engine wrote it.
    auto config = json::parse(*ctr::sys::read_file(bundle / "config.json"));
    config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", {{{"names", {"getppid"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
    REQUIRE(ctr::sys::write_file_atomic(bundle / "config.json", config.dump(2)));
    const std::string written = *ctr::sys::read_file(bundle / "config.json");
    const std::string id = unique("life");
    for (const auto& oci : both(d)) {
        CAPTURE(oci.name);
        const fs::path pid_file = oci.dir / "pid";
        auto made = oci({"create", "--bundle", bundle.string(), "--pid-file", pid_file.string(), id});
        REQUIRE_MESSAGE(made.code == 0, made.err);
        CHECK(*ctr::sys::read_file(bundle / "config.json") == written);
        auto st = json::parse(oci({"state", id}).out);
        CHECK(st["status"] == "created");
        CHECK(st["id"] == id);
        CHECK(st["bundle"] == bundle.string());
        CHECK(st["rootfs"] == (bundle / "rootfs").string());
        CHECK(std::to_string(st["pid"].get<int>()) == *ctr::sys::read_file(pid_file));
        CHECK(oci({"list", "-q"}).out == id + "\n");
        CHECK(oci({"start", id}).code == 0);
        CHECK(oci.status(id) == "running");
        CHECK(oci({"start", id}).err.find("cannot start an already running container") != std::string::npos);
        auto procs = json::parse(oci({"ps", "--format", "json", id}).out);
        CHECK(procs == json::array({st["pid"]}));
        CHECK(oci({"pause", id}).code == 0);
        CHECK(oci.status(id) == "paused");
        CHECK(oci({"resume", id}).code == 0);
        CHECK(oci.status(id) == "running");
        auto del_running = oci({"delete", id});
        CHECK(del_running.code == 1);
        CHECK(del_running.err.find("cannot delete container " + id + " that is not stopped: running") != std::string::npos);
        CHECK(oci({"kill", id, "KILL"}).code == 0);
        CHECK(oci.becomes(id, "stopped"));
        auto dead = oci({"kill", id, "TERM"});
        CHECK(dead.code == 1);
        CHECK(dead.err.find("container not running") != std::string::npos);
        CHECK(oci({"delete", id}).code == 0);
        CHECK(oci.status(id) == "gone");
        // Not there: runc's words, on stderr and, with --log-format json, in the log.
        for (const char* cmd : {"state", "start", "delete", "pause"}) {
            CAPTURE(cmd);
            auto r = oci({cmd, id});
            CHECK(r.code == 1);
            CHECK(r.err.find("container does not exist") != std::string::npos);
        }
        CHECK(oci({"kill", id, "KILL"}).err.find("container does not exist") != std::string::npos);
        CHECK(oci({"delete", "--force", id}).code == 0);
        const fs::path log = oci.dir / "log.json";
        std::vector<std::string> logged = {"--log", log.string(), "--log-format", "json", "start", id};
        CHECK(oci(logged).code == 1);
        auto line = json::parse(*ctr::sys::read_file(log));
        CHECK(line["level"] == "error");
        CHECK(line["msg"] == "container does not exist");
        CHECK(oci({"list", "-q"}).out.empty());
    }
}

TEST_CASE("container-oci and runc alike: run in the foreground, exit codes, signal deaths, exec, bad bundles" * CTR_NEEDS_ROOT) {
    ScratchDir d;
    const fs::path exits = make_bundle(d.path() / "exits", {"sh", "-c", "echo out; echo err >&2; exit 3"});
    const fs::path killed = make_bundle(d.path() / "killed", {"sleep", "30"});
    const fs::path waits = make_bundle(d.path() / "waits", {"sleep", "30"});
    const fs::path windows = make_bundle(d.path() / "windows", {"true"});
    auto spec = json::parse(*ctr::sys::read_file(windows / "config.json"));
    spec.erase("linux");
    spec["windows"] = {{"layerFolders", {"C:\\layers\\1"}}};
    REQUIRE(ctr::sys::write_file_atomic(windows / "config.json", spec.dump()));
    fs::create_directories(d.path() / "empty");
    for (const auto& oci : both(d)) {
        CAPTURE(oci.name);
        auto r = oci({"run", "--bundle", exits.string(), unique("exits")});
        CHECK(r.code == 3);
        CHECK(r.out == "out\n");
        CHECK(r.err.find("err\n") != std::string::npos);
        CHECK(oci.status(unique("exits")) == "gone");  // run deletes what it ran
        // A signal death: PID 1 of its namespace, killed from outside.
        auto foreground = std::async(std::launch::async, [&] { return oci({"run", "--bundle", killed.string(), unique("killed")}); });
        CHECK(oci.becomes(unique("killed"), "running"));
        CHECK(oci({"kill", unique("killed"), "9"}).code == 0);
        CHECK(foreground.get().code == 137);
        // exec: output, exit code, a pid file; detached run.
        const std::string id = unique("waits");
        REQUIRE(oci({"run", "-d", "--bundle", waits.string(), id}).code == 0);
        CHECK(oci.status(id) == "running");
        auto e = oci({"exec", id, "echo", "in it"});
        CHECK(e.code == 0);
        CHECK(e.out == "in it\n");
        CHECK(oci({"exec", id, "sh", "-c", "exit 4"}).code == 4);
        auto pf = oci.dir / "exec.pid";
        CHECK(oci({"exec", "-d", "--pid-file", pf.string(), id, "sleep", "1"}).code == 0);
        CHECK(fs::exists(pf));
        CHECK(oci({"delete", "--force", id}).code == 0);
        CHECK(oci.status(id) == "gone");
        // A bundle without config.json: an error, and nothing made.
        auto bad = oci({"create", "--bundle", (d.path() / "empty").string(), unique("bad")});
        CHECK(bad.code == 1);
        CHECK(bad.err.find("config.json") != std::string::npos);
        CHECK(oci({"list", "-q"}).out.empty());
        // A spec for another platform (Windows': no linux block): refused
        // by the runtime, exit 1, and nothing made either.
        auto other = oci({"create", "--bundle", windows.string(), unique("windows")});
        CHECK(other.code == 1);
        CHECK_FALSE(other.err.empty());
        CHECK(oci({"list", "-q"}).out.empty());
        CHECK(oci.status(unique("windows")) == "gone");
    }
}

TEST_CASE("container-oci and runc alike: --preserve-fds hands the engine's fds 3.. to the container; a plugin that cannot is refused, nothing left" *
          CTR_NEEDS_ROOT) {
    ScratchDir d;
    // fd 3 is a file the container appends to, fd 4 one it reads from.
    const fs::path writes = make_bundle(d.path() / "writes", {"sh", "-c", "echo to-three >&3; cat <&4 >&3; ls /proc/self/fd"});
    for (auto oci : both(d)) {
        CAPTURE(oci.name);
        const fs::path three = oci.dir / "three", four = oci.dir / "four";
        std::ofstream(four) << "from-four\n";
        oci.redirects = "3>>'" + three.string() + "' 4<'" + four.string() + "'";
        auto r = oci({"run", "--preserve-fds", "2", "--bundle", writes.string(), unique("writes")});
        CHECK_MESSAGE(r.code == 0, r.err);
        CHECK(ctr::test::file_text(three) == "to-three\nfrom-four\n");
        // Only those: stdio, the two, and ls's own directory.
        CHECK(r.out == "0\n1\n2\n3\n4\n5\n");
        // Without the flag, the same fds stay out of the container.
        r = oci({"run", "--bundle", writes.string(), unique("writes")});
        CHECK(r.out == "0\n1\n2\n3\n");
        CHECK(ctr::test::file_text(three) == "to-three\nfrom-four\n");
        CHECK(oci({"list", "-q"}).out.empty());
    }
    // runtime-example (a third party's plugin) does not know the field: the
    // container it made goes again, with runc's exit code.
    Oci example{"example", (ctr::test::build_root() / "host/container-oci").string(), d.path() / "example-root", d.path() / "example"};
    fs::create_directories(example.dir);
    example.redirects = "3>/dev/null";
    auto refused = example({"--plugin", "example", "create", "--preserve-fds", "1", "--bundle", writes.string(), unique("example")});
    CHECK(refused.code == 1);
    CHECK(refused.err.find("--preserve-fds: runtime example passes no extra file descriptors") != std::string::npos);
    CHECK(example({"--plugin", "example", "list", "-q"}).out.empty());
}

TEST_CASE("container-oci: a plugin that crashes in the middle of create gets runc's exit code, one clear line on stderr and in the JSON log, and leaves nothing; a crash in start is reported alike; usage errors are logged too") {
    ScratchDir d;
    fs::create_directories(d.path() / "bundle");
    std::ofstream(d.path() / "bundle/config.json") << "{}";
    const fs::path root = d.path() / "root", log = d.path() / "log.json";
    const std::vector<std::string> env = {"CONTAINER_PLUGIN_PATH=" + ctr::test::env_or_empty("CTR_CRASH_RUNTIME")};
    auto oci = [&](std::vector<std::string> args, std::vector<std::string> extra_env = {}) {
        args.insert(args.begin(), {"--root", root.string(), "--log", log.string(), "--log-format", "json", "--plugin", "crash-create"});
        extra_env.insert(extra_env.begin(), env.begin(), env.end());
        return ctr::test::run("host/container-oci", args, extra_env);
    };
    auto r = oci({"create", "--bundle", (d.path() / "bundle").string(), "broken"});
    CHECK(r.code == 1);
    const std::string said = "runtime plugin crash-create crashed during create (signal 11: Segmentation fault); container \"broken\" was not created";
    CHECK(r.err == said + "\n");
    auto line = json::parse(ctr::test::file_text(log), nullptr, false);
    CHECK(line.value("level", "") == "error");
    CHECK(line.value("msg", "") == said);
    // The plugin's mark of what it had made is gone (its delete ran), and
    // so is our record: to an engine the container never was.
    std::vector<std::string> left;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.path().filename().string().find("broken") != std::string::npos) left.push_back(e.path().string());
    CHECK(left.empty());
    CHECK(oci({"list", "-q"}).out.empty());
    auto st = oci({"state", "broken"});
    CHECK(st.code == 1);
    CHECK(st.err.find("container does not exist") != std::string::npos);
    // A usage error is reported like any other (runc logs it too): an
    // engine reads the log to say why its call failed.
    const fs::path usage_log = d.path() / "usage.json";
    auto u = ctr::test::run("host/container-oci", {"--root", root.string(), "--log", usage_log.string(), "--log-format", "json", "create", "--bogus", "x"}, env);
    CHECK(u.code == 1);
    auto usage = json::parse(ctr::test::file_text(usage_log), nullptr, false);
    CHECK(usage.value("level", "") == "error");
    CHECK(usage.value("msg", "").find("--bogus") != std::string::npos);
    // A crash in a later call (start) is an error in the same words; the
    // container stays, for the engine's delete to clear.
    auto made = oci({"create", "--bundle", (d.path() / "bundle").string(), "late"}, {"CTR_CRASH_AT=start"});
    REQUIRE_MESSAGE(made.code == 0, made.err);
    auto started = oci({"start", "late"});
    CHECK(started.code == 1);
    CHECK(started.err == "runtime plugin crash-create crashed during start (signal 11: Segmentation fault)\n");
    CHECK(oci({"state", "late"}).code == 0);
    CHECK(oci({"list", "-q"}).out == "late\n");
    CHECK(oci({"delete", "late"}).code == 0);
    left.clear();
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.path().filename().string().find("late") != std::string::npos) left.push_back(e.path().string());
    CHECK(left.empty());
}

TEST_CASE("container-oci and runc alike: a terminal through --console-socket, and an id in use" * CTR_NEEDS_ROOT) {
    ScratchDir d;
    const fs::path bundle = make_bundle(d.path() / "bundle", {"sh", "-c", "echo on a tty; sleep 30"});
    auto config = json::parse(*ctr::sys::read_file(bundle / "config.json"));
    config["process"]["terminal"] = true;
    REQUIRE(ctr::sys::write_file_atomic(bundle / "config.json", config.dump()));
    const std::string id = unique("tty");
    for (const auto& oci : both(d)) {
        CAPTURE(oci.name);
        ConsoleSocket console(oci.dir / "console.sock");
        auto made = oci({"create", "--bundle", bundle.string(), "--console-socket", (oci.dir / "console.sock").string(), id});
        REQUIRE_MESSAGE(made.code == 0, made.err);
        CHECK(console.master() >= 0);
        CHECK(::isatty(console.master()));
        auto again = oci({"create", "--bundle", bundle.string(), "--console-socket", (oci.dir / "console.sock").string(), id});
        CHECK(again.code == 1);
        CHECK(again.err.find("container with given ID already exists") != std::string::npos);
        CHECK(oci({"start", id}).code == 0);
        CHECK(console.read_until("on a tty").find("on a tty\r\n") != std::string::npos);
        CHECK(oci({"delete", "-f", id}).code == 0);
        CHECK(oci.status(id) == "gone");
    }
}

TEST_CASE("container-oci: version in runc's shape, features, spec, unsupported commands, plugin choice; system oci-config") {
    auto v = ctr::test::run("host/container-oci", {"--version"});
    CHECK(v.code == 0);
    CHECK(v.out.rfind("runc version ", 0) == 0);
    CHECK(v.out.find("\nspec: 1.0.2") != std::string::npos);
    CHECK(v.out.find("container-oci") != std::string::npos);
    auto f = ctr::test::run("host/container-oci", {"features"});
    auto features = json::parse(f.out);
    CHECK(features["linux"]["cgroup"]["v2"] == true);
    CHECK(features["annotations"]["org.container.oci.plugin"] == "runtime-linux");
    ScratchDir d;
    CHECK(ctr::test::run("host/container-oci", {"spec", "--bundle", d.path().string()}).code == 0);
    auto again = ctr::test::run("host/container-oci", {"spec", "--bundle", d.path().string()});
    CHECK(again.code == 1);
    CHECK(again.err.find("exists") != std::string::npos);
    auto cp = ctr::test::run("host/container-oci", {"checkpoint", "x"});
    CHECK(cp.code == 1);
    CHECK(cp.err.find("checkpoint is not supported") != std::string::npos);
    auto unknown = ctr::test::run("host/container-oci", {"--plugin", "runtime-nope", "--root", d.path().string(), "state", "x"});
    CHECK(unknown.code == 1);
    CHECK(unknown.err.find("runtime-nope") != std::string::npos);
    // The plugin by the program's name, and by the bundle's annotation.
    fs::create_symlink(ctr::test::build_root() / "host/container-oci", d.path() / "container-oci-nothere");
    auto named = ctr::test::run((d.path() / "container-oci-nothere").string(), {"--root", d.path().string(), "state", "x"});
    CHECK(named.err.find("runtime-nothere") != std::string::npos);
    const fs::path bundle = d.path() / "annotated";
    fs::create_directories(bundle);
    REQUIRE(ctr::sys::write_file_atomic(bundle / "config.json", R"({"ociVersion":"1.0.2","annotations":{"org.container.oci.plugin":"runtime-elsewhere"}})"));
    auto annotated = ctr::test::run("host/container-oci", {"--root", d.path().string(), "create", "--bundle", bundle.string(), "a1"});
    CHECK(annotated.code == 1);
    CHECK(annotated.err.find("runtime-elsewhere") != std::string::npos);
    CHECK(ctr::test::run("host/container-oci", {"--root", d.path().string(), "list", "-q"}).out.empty());

    // The engines' snippets name the binary beside the CLI.
    const std::string oci = (ctr::test::build_root() / "host/container-oci").string();
    auto containerd = ctr::test::run("host/container", {"system", "oci-config", "containerd"});
    CHECK(containerd.code == 0);
    CHECK(containerd.out.find("runtime_type = \"io.containerd.runc.v2\"") != std::string::npos);
    CHECK(containerd.out.find("BinaryName = \"" + oci + "\"") != std::string::npos);
    CHECK(containerd.out.find("# handler: container-linux") != std::string::npos);
    auto podman = ctr::test::run("host/container", {"system", "oci-config", "podman", "--plugin", "runtime-microvm"});
    CHECK(podman.out.find("ln -s " + oci + " " + oci + "-microvm") != std::string::npos);
    CHECK(podman.out.find("container-microvm = [\"" + oci + "-microvm\"]") != std::string::npos);
    auto docker = ctr::test::run("host/container", {"system", "oci-config", "docker"});
    auto daemon_json = json::parse(docker.out.substr(docker.out.find('{')));
    CHECK(daemon_json["runtimes"]["container-linux"]["path"] == oci);
    CHECK(ctr::test::run("host/container", {"system", "oci-config", "nerdctl"}).code != 0);
}

TEST_CASE("container-oci --systemd-cgroup: where systemd runs, the container is a scope of the slice its cgroupsPath names; elsewhere the runtime's refusal, nothing left" *
          CTR_NEEDS_ROOT) {
    ScratchDir d;
    const Oci oci{"container-oci", (ctr::test::build_root() / "host/container-oci").string(), d.path() / "oci-root", d.path() / "oci"};
    fs::create_directories(oci.dir);
    const fs::path bundle = make_bundle(d.path() / "bundle", {"sleep", "30"});
    const std::string id = unique("scoped");
    auto config = json::parse(*ctr::sys::read_file(bundle / "config.json"));
    config["linux"]["cgroupsPath"] = "system.slice:ctrtest:" + id;  // systemd's SLICE:PREFIX:NAME
    REQUIRE(ctr::sys::write_file_atomic(bundle / "config.json", config.dump()));
    auto run = oci({"--systemd-cgroup", "run", "-d", "--bundle", bundle.string(), id});
    if (!ctr::sys::systemd_manages_cgroups()) {
        // This build machine: the OCI runtime was asked for systemd and says it cannot.
        CHECK(run.code != 0);
        CHECK_MESSAGE(run.err.find("sd-bus") != std::string::npos, run.err);
        CHECK(oci({"list", "-q"}).out.empty());
        return;
    }
    REQUIRE_MESSAGE(run.code == 0, run.err);
    auto st = json::parse(oci({"state", id}).out);
    const int pid = st.value("pid", 0);
    REQUIRE(pid > 0);
    auto cgroup = ctr::sys::read_file("/proc/" + std::to_string(pid) + "/cgroup");
    REQUIRE(cgroup);
    const std::string scope = "/system.slice/ctrtest-" + id + ".scope";
    CHECK_MESSAGE(cgroup->find("0::" + scope) == 0, *cgroup);
    auto active = ctr::sys::run_capture({ctr::sys::find_program("systemctl"), "show", "-p", "ActiveState", "--value", "ctrtest-" + id + ".scope"}, 30000);
    CHECK((active && active->out == "active\n"));
    REQUIRE(oci({"delete", "-f", id}).code == 0);
    bool gone = false;
    for (int i = 0; i < 200 && !(gone = !fs::exists("/sys/fs/cgroup" + scope)); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(gone);
}
