// The API server as a user meets it through the CLI: started on demand,
// stopped, versioned, crash-safe, one per root, and strict about its config.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"
#include "tests/support/skip.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <doctest/doctest.h>

#include <cstring>
#include <future>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>

using ctr::test::DaemonRoot;
using nlohmann::json;

TEST_CASE("a fresh root has no daemon; `container ls` starts one; `system stop` stops it and its socket goes") {
    DaemonRoot r;
    auto status = r.cli({"system", "status"});
    CHECK(status.code == 1);
    CHECK(status.out.find("apiserver is not running") != std::string::npos);
    CHECK(status.out.find(r.root()) != std::string::npos);

    auto ls = r.cli({"ls"});
    CHECK(ls.code == 0);
    CHECK(ls.err.find("started the API server for root " + r.root()) != std::string::npos);
    CHECK(ls.out.rfind("ID", 0) == 0);
    auto socket = r.path() / "run/container/api.sock";
    CHECK(std::filesystem::is_socket(socket));
    const auto want = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;
    CHECK((std::filesystem::status(socket).permissions() & std::filesystem::perms::all) == want);

    auto again = r.cli({"ls"});
    CHECK(again.err.empty());  // already running: nothing started
    // The socket on which the daemon said it was ready is gone with the start.
    for (const auto& e : std::filesystem::directory_iterator(r.path() / "run/container"))
        CHECK_MESSAGE(e.path().filename().string().rfind("apiserver.ready.", 0) != 0, e.path());

    auto running = r.cli({"system", "status", "--format", "json"});
    CHECK(running.code == 0);
    auto j = json::parse(running.out);
    CHECK(j["running"] == true);
    CHECK(j["root"] == r.root());
    CHECK(j["pid"] == r.daemon_pid());

    auto stop = r.cli({"system", "stop"});
    CHECK(stop.code == 0);
    CHECK_FALSE(std::filesystem::exists(socket));
    CHECK(r.cli({"system", "status"}).code == 1);
    auto stop_again = r.cli({"system", "stop"});  // idempotent
    CHECK(stop_again.code == 0);
    CHECK(stop_again.err.find("no API server is running") != std::string::npos);
}

TEST_CASE("system version shows the CLI and the server") {
    DaemonRoot r;
    auto off = r.cli({"system", "version", "--format", "json"});
    CHECK(off.code == 0);
    CHECK(json::parse(off.out)["server"].is_null());
    r.start();
    auto v = r.cli({"system", "version"});
    CHECK(v.code == 0);
    CHECK(v.out.find("cli ") != std::string::npos);
    CHECK(v.out.find("apiserver   0.1.0") != std::string::npos);
    auto j = json::parse(r.cli({"system", "version", "--format", "json"}).out);
    CHECK(j["cli"]["version"] == j["server"]["version"]);
    CHECK(j["server"]["api_version"] == "v1");
}

TEST_CASE("one daemon per root: a second one refuses to start") {
    DaemonRoot r;
    r.start();
    auto second = ctr::test::run("host/container-apiserver", {"--root", r.root()});
    CHECK(second.code == 1);
    CHECK(second.err.find("another container-apiserver is running for root " + r.root()) != std::string::npos);
    CHECK(r.cli({"ls"}).code == 0);  // the first still serves
}

TEST_CASE("a daemon given NOTIFY_SOCKET says READY=1 there once it serves, and what it starts does not inherit it" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const auto notify = r.path() / "notify.sock";
    ctr::sys::UniqueFd listener(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    REQUIRE(notify.string().size() < sizeof a.sun_path);
    std::memcpy(a.sun_path, notify.c_str(), notify.string().size());
    REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);

    ctr::sys::SpawnOptions so;
    so.env = {"NOTIFY_SOCKET=" + notify.string()};  // as systemd starts a Type=notify service
    so.stderr_path = (r.path() / "apiserver.err").string();
    auto pid = ctr::sys::spawn({(ctr::test::build_root() / "host/container-apiserver").string(), "--root", r.root()}, so);
    REQUIRE(pid);
    pollfd p{listener.get(), POLLIN, 0};
    REQUIRE_MESSAGE(::poll(&p, 1, 30000) == 1, ctr::test::file_text(r.path() / "apiserver.err"));
    char buf[128] = {};
    CHECK(std::string(buf, static_cast<size_t>(std::max<ssize_t>(0, ::recv(listener.get(), buf, sizeof buf, 0)))) == "READY=1");
    auto ls = r.cli({"ls"});
    CHECK(ls.code == 0);
    CHECK(ls.err.empty());  // it serves already: the CLI started nothing
    CHECK(r.daemon_pid() == *pid);

    // The shim (and the OCI runtime it runs) would otherwise take it for a
    // container's request to talk to systemd.
    auto run = r.cli({"run", "-d", "--network", "none", ctr::test::shared_busybox().image, "sleep", "60"});
    REQUIRE_MESSAGE(run.code == 0, run.err);
    auto shim = ctr::sys::read_pid_file(r.path() / "var/lib/container/containers" / run.out.substr(0, 64) / "shim.pid");
    REQUIRE(shim > 0);
    std::string env_block = ctr::test::file_text("/proc/" + std::to_string(shim) + "/environ");
    CHECK_FALSE(env_block.empty());
    CHECK(env_block.find("NOTIFY_SOCKET=") == std::string::npos);
    CHECK(r.cli({"rm", "-f", run.out.substr(0, 64)}).code == 0);
    CHECK(r.cli({"system", "stop"}).code == 0);
    int status = 0;
    CHECK(::waitpid(*pid, &status, 0) == *pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a root whose socket path is too long: one line naming the path and the limit, exit 125, no crash") {
    ctr::test::ScratchDir dir;
    const auto root = dir.path() / std::string(100, 'x');
    std::filesystem::create_directories(root);
    auto ls = ctr::test::run("host/container", {"--root", root.string(), "ls"});
    CHECK(ls.code == 125);
    CHECK(ls.err.find("api.sock\" is longer than 107 bytes: use a shorter --root") != std::string::npos);
    CHECK(ls.err.find("terminate") == std::string::npos);
    CHECK(std::count(ls.err.begin(), ls.err.end(), '\n') == 1);
    CHECK(ctr::test::run("host/container", {"--root", root.string(), "system", "status"}).code == 1);  // nothing left running
}

TEST_CASE("20 CLI calls in parallel on a root with no daemon all succeed, with one daemon") {
    DaemonRoot r;
    std::vector<std::future<ctr::test::Run>> calls;
    for (int i = 0; i < 20; ++i)
        calls.push_back(std::async(std::launch::async, [&r, i] {
            return r.cli({"volume", "create", "par-" + std::to_string(i)});
        }));
    for (int i = 0; i < 20; ++i) {
        auto res = calls[i].get();
        CAPTURE(i);
        CHECK_MESSAGE(res.code == 0, res.err);
        CHECK(res.out == "par-" + std::to_string(i) + "\n");
    }
    auto ls = r.cli({"volume", "ls", "-q"});
    CHECK(std::count(ls.out.begin(), ls.out.end(), '\n') == 20);
}

TEST_CASE("a malformed config names file, line and key, and the daemon does not start") {
    DaemonRoot r;
    auto etc = r.path() / "etc/container";
    REQUIRE(ctr::sys::make_dirs(etc));
    REQUIRE(ctr::sys::write_file_atomic(etc / "config.toml", "[container]\ncpus = 2\n\n[network]\nsubnet_poool = \"10.1.0.0/16\"\n"));
    auto ls = r.cli({"ls"});
    CHECK(ls.code == 125);
    CHECK(ls.err.find((etc / "config.toml").string() + ":5: key \"network.subnet_poool\": unknown key") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(r.path() / "run/container/api.sock"));
    CHECK(r.cli({"system", "status"}).code == 1);

    REQUIRE(ctr::sys::write_file_atomic(etc / "config.toml", "[container]\nmemory = 12\n"));
    auto wrong = r.cli({"system", "start"});
    CHECK(wrong.code == 125);
    CHECK(wrong.err.find("config.toml:2: key \"container.memory\": must be a string") != std::string::npos);

    REQUIRE(ctr::sys::write_file_atomic(etc / "config.toml", "[container]\ncpus = 1.5\nmemory = \"512m\"\n"));
    r.start();
    auto props = json::parse(r.cli({"system", "property", "ls", "--format", "json"}).out);
    CHECK(props["container.cpus"] == 1.5);
    CHECK(props["container.memory"] == 512 * 1024 * 1024);
    CHECK(props["network.subnet_pool"] == "10.213.0.0/16");
}

TEST_CASE("kill -9 in the middle of a change: a restart rolls back or finishes it") {
    struct Case {
        const char* failpoint;
        std::vector<std::string> args;
        bool volume_exists_after;
    };
    std::vector<Case> cases = {
        {"volume-create-after-insert", {"volume", "create", "v1"}, false},
        {"volume-create-after-mkdir", {"volume", "create", "v1"}, false},
        {"volume-remove-after-mark", {"volume", "rm", "v1"}, false},
    };
    for (const auto& c : cases) {
        CAPTURE(c.failpoint);
        DaemonRoot r;
        r.start();
        if (std::string(c.failpoint).find("remove") != std::string::npos) {
            REQUIRE(r.cli({"volume", "create", "v1"}).code == 0);
        }
        REQUIRE(r.cli({"volume", "create", "keep"}).code == 0);
        // Restart the daemon with the failpoint armed: it dies there, as by SIGKILL.
        REQUIRE(r.cli({"system", "stop"}).code == 0);
        r.start({"CONTAINER_FAILPOINT=" + std::string(c.failpoint)});
        auto died = r.cli(c.args);
        CHECK(died.code == 125);
        CHECK(r.cli({"system", "status"}).code == 1);

        auto ls = r.cli({"volume", "ls", "--format", "json"});  // restarts the daemon, which reconciles
        REQUIRE(ls.code == 0);
        auto vols = json::parse(ls.out);
        std::vector<std::string> names;
        for (const auto& v : vols) names.push_back(v["name"]);
        CHECK(names == std::vector<std::string>(c.volume_exists_after ? std::vector<std::string>{"keep", "v1"}
                                                                      : std::vector<std::string>{"keep"}));
        CHECK_FALSE(std::filesystem::exists(r.path() / "var/lib/container/volumes/v1"));
        CHECK(std::filesystem::exists(r.path() / "var/lib/container/volumes/keep/_data"));
        auto log = r.cli({"system", "logs"});
        CHECK(log.out.find("after a crash:") != std::string::npos);
        // And the name is usable again.
        CHECK(r.cli({"volume", "create", "v1"}).code == 0);
    }
}

TEST_CASE("kill -9 of an idle daemon loses nothing committed") {
    DaemonRoot r;
    r.start();
    for (int i = 0; i < 5; ++i) REQUIRE(r.cli({"volume", "create", "k" + std::to_string(i)}).code == 0);
    r.kill9();
    auto ls = r.cli({"volume", "ls", "-q"});
    CHECK(ls.out == "k0\nk1\nk2\nk3\nk4\n");
}

TEST_CASE("a daemon killed a moment ago, still accepting while its last threads exit: the CLI waits for it and starts a new one") {
    DaemonRoot r;
    auto run_dir = r.path() / "run/container";
    std::filesystem::create_directories(run_dir);
    // A stand-in for the dying daemon: it listens on the root's socket and
    // writes its pid, then its leader thread exits while another thread holds
    // the socket for 1.5 s more (as a killed daemon's slowest thread can).
    const std::string script =
        "import ctypes, os, socket, sys, threading, time\n"
        "s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(16)\n"
        "open(sys.argv[2], 'w').write(str(os.getpid()))\n"
        "threading.Thread(target=lambda: (time.sleep(1.5), os._exit(0))).start()\n"
        "ctypes.CDLL(None).syscall(60, 0)  # SYS_exit: this thread only\n";
    auto pid = ctr::sys::spawn({"/usr/bin/python3", "-c", script, (run_dir / "api.sock").string(), (run_dir / "apiserver.pid").string()},
                               ctr::sys::SpawnOptions{});
    REQUIRE(pid);
    bool exiting = false;
    for (int i = 0; i < 500 && !(exiting = ctr::sys::process_exiting(*pid)); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(exiting);
    auto ls = r.cli({"ls"});
    CHECK_MESSAGE(ls.code == 0, ls.err);
    CHECK(ls.err.find("started the API server") != std::string::npos);
    CHECK(ctr::sys::process_ended(*pid));
    ::waitpid(*pid, nullptr, 0);
}

TEST_CASE("system logs shows the daemon's log; -f follows it") {
    DaemonRoot r;
    r.start();
    auto logs = r.cli({"system", "logs"});
    CHECK(logs.code == 0);
    CHECK(logs.out.find("serving root " + r.root()) != std::string::npos);
    auto tail = r.cli({"system", "logs", "-n", "1"});
    CHECK(std::count(tail.out.begin(), tail.out.end(), '\n') == 1);

    // Follow: start following, make the daemon log a new line, see it arrive.
    std::promise<ctr::test::Run> followed;
    std::thread follower([&] {
        auto res = ctr::test::run("host/container", {"--root", r.root(), "system", "logs", "-f"}, {}, 3000);
        followed.set_value(res);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    REQUIRE(r.cli({"volume", "create", "logged"}).code == 0);  // the daemon logs it
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    REQUIRE(r.cli({"system", "stop"}).code == 0);  // ends the stream
    follower.join();
    auto f = followed.get_future().get();
    CHECK(f.code == 0);
    CHECK(f.out.find("created volume logged") != std::string::npos);
}

TEST_CASE("system df counts volumes and what could be reclaimed") {
    DaemonRoot r;
    r.start();
    REQUIRE(r.cli({"volume", "create", "d1"}).code == 0);
    REQUIRE(ctr::sys::write_file_atomic(r.path() / "var/lib/container/volumes/d1/_data/blob", std::string(100000, 'x')));
    auto df = json::parse(r.cli({"system", "df", "--format", "json"}).out);
    REQUIRE(df.size() == 4);
    CHECK(df[3]["type"] == "build cache");
    CHECK(df[3]["total"] == 0);
    CHECK(df[2]["type"] == "volumes");
    CHECK(df[2]["total"] == 1);
    CHECK(df[2]["size"].get<int64_t>() >= 100000);
    CHECK(df[2]["reclaimable"] == df[2]["size"]);
    auto table = r.cli({"system", "df"});
    CHECK(table.out.find("RECLAIMABLE") != std::string::npos);
}
