// kill -9 of the daemon at the failpoints of start, stop and rm: the next
// daemon finds the container as the interrupted command meant it (running,
// stopped by its user, removed), with nothing lost and nothing left over.
// And a state database damaged while the daemon was down.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sys/mount.h>
#include <csignal>
#include <thread>

using ctr::test::DaemonRoot;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The daemon restarted with `failpoint` armed: the next command that passes
// it dies there, as by SIGKILL.
void arm(DaemonRoot& r, const std::string& failpoint) {
    REQUIRE(r.cli({"system", "stop"}).code == 0);
    r.start({"CONTAINER_FAILPOINT=" + failpoint});
}

using ctr::test::inspect;

}  // namespace

TEST_CASE("kill -9 in start, after the shim started the container: the next daemon says it runs, and stop and rm work on it" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start();
    REQUIRE(r.cli({"create", "--name", "c1", ctr::test::shared_busybox().image, "sleep", "300"}).code == 0);
    arm(r, "container-start-after-shim");
    CHECK(r.cli({"start", "c1"}).code != 0);  // the daemon died under it
    CHECK(r.cli({"system", "status"}).code == 1);

    auto c = inspect(r, "c1");  // a new daemon, which reconciles
    CHECK(c["state"] == "running");
    REQUIRE(c["pid"].is_number_integer());
    CHECK(fs::exists("/proc/" + std::to_string(c["pid"].get<int>())));
    CHECK(r.cli({"exec", "c1", "true"}).code == 0);
    CHECK(r.cli({"system", "logs"}).out.find("container c1 was started: its record says so now") != std::string::npos);
    auto stop = r.cli({"stop", "-t", "1", "c1"});
    CHECK_MESSAGE(stop.code == 0, stop.err);
    CHECK(inspect(r, "c1")["state"] == "stopped");
    CHECK(r.cli({"rm", "c1"}).code == 0);
}

TEST_CASE("kill -9 in stop, after the signal: the exit is recorded and the restart policy stays off" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start();
    // As PID 1 it gets SIGTERM only through a handler of its own.
    REQUIRE(r.cli({"run", "-d", "--name", "c1", "--restart", "always", ctr::test::shared_busybox().image, "sh", "-c",
                   "trap 'exit 143' TERM; sleep 300 & wait"}).code == 0);
    arm(r, "container-stop-after-signal");
    CHECK(r.cli({"stop", "c1"}).code != 0);
    auto wait = r.cli({"wait", "c1"});  // a new daemon; the shell ends with the SIGTERM
    CHECK(wait.out == "143\n");
    auto c = inspect(r, "c1");
    CHECK(c["state"] == "stopped");
    CHECK(c["exit_code"] == 143);
    CHECK(r.cli({"rm", "c1"}).code == 0);
}

TEST_CASE("kill -9 in rm, before the record went: the next daemon finishes the removal and the name is free" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start();
    REQUIRE(r.cli({"create", "--name", "gone", ctr::test::shared_busybox().image, "true"}).code == 0);
    REQUIRE(r.cli({"create", "--name", "kept", ctr::test::shared_busybox().image, "true"}).code == 0);
    std::string id = inspect(r, "gone")["id"];
    arm(r, "container-remove-before-record");
    CHECK(r.cli({"rm", "gone"}).code != 0);
    CHECK_FALSE(fs::exists(r.path() / "var/lib/container/containers" / id));

    auto ls = r.cli({"ls", "-a", "--format", "json"});  // a new daemon
    REQUIRE(ls.code == 0);
    auto all = json::parse(ls.out);
    REQUIRE(all.size() == 1);
    CHECK(all[0]["name"] == "kept");
    CHECK(r.cli({"system", "logs"}).out.find("finished the removal of container gone") != std::string::npos);
    CHECK_FALSE(fs::exists(r.path() / "var/lib/container/containers" / (id + ".removing")));  // the mark went with it
    CHECK(r.cli({"create", "--name", "gone", ctr::test::shared_busybox().image, "true"}).code == 0);
    CHECK(r.cli({"rm", "gone", "kept"}).code == 0);
}

TEST_CASE("kill -9 of a running container's shim: its process is killed, the exit says SIGKILL, and rm works" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start();
    REQUIRE(r.cli({"run", "-d", "--name", "c1", ctr::test::shared_busybox().image, "sleep", "300"}).code == 0);
    auto c = inspect(r, "c1");
    std::string id = c["id"];
    REQUIRE(c["pid"].is_number_integer());
    const std::string proc = "/proc/" + std::to_string(c["pid"].get<int>());
    std::ifstream shim_file(r.path() / "var/lib/container/containers" / id / "shim.pid");
    int shim = 0;
    shim_file >> shim;
    REQUIRE(shim > 0);
    REQUIRE(::kill(shim, SIGKILL) == 0);

    // Nobody waits for that process any more: the daemon must not call it
    // running, nor leave it running.
    for (int i = 0; i < 150 && inspect(r, "c1")["state"] == "running"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    c = inspect(r, "c1");
    CHECK(c["state"] == "stopped");
    CHECK(c["exit_code"] == 137);
    auto ended = [&] {
        std::ifstream stat(proc + "/stat");
        std::string line;
        return !std::getline(stat, line) || line.find(") Z ") != std::string::npos;
    };
    for (int i = 0; i < 100 && !ended(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(ended());
    CHECK(r.daemon_log().find("its shim is gone while its process") != std::string::npos);
    auto rm = r.cli({"rm", "c1"});
    CHECK_MESSAGE(rm.code == 0, rm.err);
    CHECK(r.runtime_leftovers().empty());
}

TEST_CASE("a damaged state database: the daemon will not start on it, says why and where the last good copy is; that copy brings the state back" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start();
    REQUIRE(r.cli({"volume", "create", "keep"}).code == 0);
    REQUIRE(r.cli({"system", "stop"}).code == 0);
    fs::path db = r.path() / "var/lib/container/state.db";
    fs::path bak = db.string() + ".bak";
    REQUIRE(fs::exists(bak));  // made at the start, after the check passed

    // The header overwritten: the file is no longer a database.
    {
        std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
        REQUIRE(f.good());
        const std::string junk(100, 'x');
        f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    auto refused = r.cli({"system", "start"});
    CHECK(refused.code != 0);
    CHECK_MESSAGE(refused.err.find("state database \"" + db.string() + "\" cannot be read") != std::string::npos, refused.err);
    CHECK_MESSAGE(refused.err.find(bak.string()) != std::string::npos, refused.err);
    CHECK(r.cli({"volume", "ls"}).code != 0);  // and no daemon serves on the damaged file
    CHECK(fs::exists(bak));                    // the copy is not overwritten by the failed start

    // As the message says: the copy moved into place, the log files removed.
    fs::rename(bak, db);
    fs::remove(db.string() + "-wal");
    fs::remove(db.string() + "-shm");
    r.start();
    auto volumes = r.cli({"volume", "ls", "-q"});
    CHECK_MESSAGE(volumes.out.find("keep") != std::string::npos, (volumes.out + volumes.err));
    CHECK(fs::exists(bak));  // and a new copy was made
    REQUIRE(r.cli({"volume", "rm", "keep"}).code == 0);
}

TEST_CASE("a full disk under the state directory: what needs space fails with a clear error, the daemon serves on, and nothing stored is lost" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    fs::path lib = r.path() / "var/lib/container";
    fs::create_directories(lib);
    // A small disk of the test's own, under its scratch root.
    REQUIRE(::mount("ctr-full", lib.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=48m,mode=0700") == 0);
    struct Unmount {
        fs::path at;
        ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
    } unmount{lib};

    r.start();
    REQUIRE(r.cli({"volume", "create", "before"}).code == 0);
    {  // the disk filled by someone else
        std::ofstream filler(lib / "filler", std::ios::binary);
        const std::string block(1 << 20, 'f');
        while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {}
    }
    auto full = r.cli({"volume", "create", "during"});
    CHECK(full.code == 125);
    CHECK_MESSAGE((full.err.find("disk is full") != std::string::npos ||
                   full.err.find("No space left on device") != std::string::npos), full.err);
    CHECK(std::count(full.err.begin(), full.err.end(), '\n') == 1);
    // Still serving, and what was stored is there; the failed volume left nothing.
    auto during = r.cli({"volume", "ls", "-q"});
    CHECK(during.code == 0);
    CHECK(during.out == "before\n");
    CHECK_FALSE(fs::exists(lib / "volumes/during"));

    fs::remove(lib / "filler");
    auto after = r.cli({"volume", "create", "after"});
    CHECK_MESSAGE(after.code == 0, after.err);
    CHECK(r.cli({"volume", "ls", "-q"}).out == "after\nbefore\n");
    // And a restarted daemon finds the same.
    REQUIRE(r.cli({"system", "stop"}).code == 0);
    r.start();
    CHECK(r.cli({"volume", "ls", "-q"}).out == "after\nbefore\n");
    REQUIRE(r.cli({"volume", "rm", "before", "after"}).code == 0);
    REQUIRE(r.cli({"system", "stop"}).code == 0);
}

TEST_CASE("kill -9 in network connect and disconnect, after the plugin: the next daemon makes the record and the endpoints agree" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start();
    REQUIRE(r.cli({"network", "create", "extra"}).code == 0);
    REQUIRE(r.cli({"run", "-d", "--name", "c1", ctr::test::shared_busybox().image, "sleep", "300"}).code == 0);
    auto endpoints = [&](const std::string& network) {
        auto res = r.cli({"network", "inspect", network});
        REQUIRE_MESSAGE(res.code == 0, res.err);
        return json::parse(res.out)[0]["endpoints"].size();
    };
    auto links = [&] { return r.cli({"exec", "c1", "ls", "/sys/class/net"}).out; };
    const json networks = inspect(r, "c1")["config"]["networks"];  // the default network's

    // Connect: the endpoint was made, the record never said so.
    arm(r, "network-connect-after-plugin");
    CHECK(r.cli({"network", "connect", "extra", "c1"}).code != 0);
    CHECK(inspect(r, "c1")["config"]["networks"] == networks);  // a new daemon
    CHECK(endpoints("extra") == 0);
    CHECK(links() == "eth0\nlo\n");
    CHECK(r.cli({"system", "logs"}).out.find("on network extra, which its record does not name") != std::string::npos);
    auto again = r.cli({"network", "connect", "extra", "c1"});  // as if it never happened
    CHECK_MESSAGE(again.code == 0, again.err);
    CHECK(links() == "eth0\neth1\nlo\n");

    // Disconnect: the endpoint went, the record still named it.
    arm(r, "network-disconnect-after-plugin");
    CHECK(r.cli({"network", "disconnect", "extra", "c1"}).code != 0);
    CHECK(inspect(r, "c1")["config"]["networks"] == json::array({"default"}));  // as a disconnect that ended leaves it
    CHECK(endpoints("extra") == 0);
    CHECK(links() == "eth0\nlo\n");
    CHECK(r.cli({"system", "logs"}).out.find("container c1 is no longer on network extra") != std::string::npos);
    auto back = r.cli({"network", "connect", "extra", "c1"});
    CHECK_MESSAGE(back.code == 0, back.err);
    CHECK(endpoints("extra") == 1);
    CHECK(r.cli({"rm", "-f", "c1"}).code == 0);
    CHECK(endpoints("extra") == 0);
    CHECK(r.cli({"network", "rm", "extra"}).code == 0);
}

TEST_CASE("kill -9 during compose up, in a create and in a start: up again converges, with no duplicate, and down leaves nothing" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start();
    ctr::test::ScratchDir dir;
    const std::string file = (dir.path() / "compose.yaml").string();
    std::ofstream(file) << "name: cut\nservices:\n"
                           "  a:\n    image: " << ctr::test::shared_busybox().image << "\n    command: [\"sleep\", \"300\"]\n    networks: [back]\n"
                           "    volumes: [\"data:/data\"]\n    stop_signal: KILL\n"
                           "  b:\n    image: " << ctr::test::shared_busybox().image << "\n    command: [\"sleep\", \"300\"]\n    networks: [back]\n"
                           "    depends_on: [a]\n    stop_signal: KILL\n"
                           "networks:\n  back: {}\nvolumes:\n  data: {}\n";
    auto services = [&] {
        auto ps = r.cli({"compose", "-f", file, "ps", "-a", "--format", "json"});
        REQUIRE_MESSAGE(ps.code == 0, ps.err);
        std::map<std::string, int> running;
        for (const auto& c : json::parse(ps.out)) running[c["service"].get<std::string>()] += c["state"] == "running";
        return running;
    };
    for (const std::string failpoint : {"container-create-after-network", "container-start-after-shim"}) {
        CAPTURE(failpoint);
        arm(r, failpoint);
        CHECK(r.cli({"compose", "-f", file, "up", "-d"}).code != 0);  // the daemon died under it
        auto up = r.cli({"compose", "-f", file, "up", "-d"});  // a new daemon
        CHECK_MESSAGE(up.code == 0, up.err);
        auto all = r.cli({"ls", "-a", "--format", "json"});
        REQUIRE(all.code == 0);
        CHECK(json::parse(all.out).size() == 2);  // one container per service, no half-made one
        CHECK(services() == std::map<std::string, int>{{"a", 1}, {"b", 1}});
        auto nets = r.cli({"network", "ls", "-q"}).out;
        CHECK(nets.find("cut_back") != std::string::npos);
        CHECK(nets.find("cut_back") == nets.rfind("cut_back"));
        auto down = r.cli({"compose", "-f", file, "down", "-v"});
        CHECK_MESSAGE(down.code == 0, down.err);
        CHECK(r.cli({"ls", "-a", "-q"}).out.empty());
        CHECK(r.cli({"network", "ls", "-q"}).out.find("cut_back") == std::string::npos);
        CHECK(r.cli({"volume", "ls", "-q"}).out.empty());
    }
}

TEST_CASE("kill -9 in commit, while the container is paused for it: the next daemon unpauses it and drops the half layer" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start();
    REQUIRE(r.cli({"run", "-d", "--name", "c1", ctr::test::shared_busybox().image, "sh", "-c", "echo kept > /note; exec sleep 300"}).code == 0);
    arm(r, "container-commit-while-paused");
    CHECK(r.cli({"commit", "c1", "snap:1"}).code != 0);  // the daemon died with c1 frozen
    CHECK(r.cli({"inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "c1"}).out == "running false\n");  // a new daemon
    CHECK(r.cli({"system", "logs"}).out.find("container c1 was paused for a commit that a crash cut short") != std::string::npos);
    CHECK(r.cli({"exec", "c1", "cat", "/note"}).out == "kept\n");
    std::error_code ec;
    CHECK((!fs::exists(r.path() / "var/lib/container/commit", ec) || fs::is_empty(r.path() / "var/lib/container/commit", ec)));
    CHECK(r.cli({"image", "ls", "-q", "snap:1"}).out.empty());  // the image was never made
    auto commit = r.cli({"commit", "c1", "snap:1"});
    CHECK_MESSAGE(commit.code == 0, commit.err);
    CHECK(r.cli({"run", "--rm", "snap:1", "cat", "/note"}).out == "kept\n");
    CHECK(r.cli({"rm", "-f", "c1"}).code == 0);
    CHECK(r.cli({"image", "rm", "snap:1"}).code == 0);
}

TEST_CASE("the image plugin killed in image rm, between its index and its collection: the name is gone and the next start collects the layers" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start();
    const fs::path blobs = r.path() / "var/lib/container/plugins/image-oci/content/blobs/sha256";
    auto count = [&] {
        size_t n = 0;
        std::error_code ec;
        for ([[maybe_unused]] const auto& e : fs::directory_iterator(blobs, ec)) ++n;
        return n;
    };
    REQUIRE(r.cli({"image", "pull", "--progress", "none", ctr::test::shared_busybox().image}).code == 0);
    const size_t before = count();
    // An image of its own (a unique layer): its blobs are what must go.
    ctr::test::ScratchDir dir;
    ctr::test::sh("mkdir -p " + (dir.path() / "fs").string() + " && head -c 65536 /dev/urandom > " + (dir.path() / "fs/noise").string() +
                  " && tar -C " + (dir.path() / "fs").string() + " -cf " + (dir.path() / "layer.tar").string() + " .");
    REQUIRE(r.cli({"image", "import", (dir.path() / "layer.tar").string(), "doomed:1"}).code == 0);
    REQUIRE(count() > before);
    // The failpoint is reached in the plugin's own process, which dies there.
    arm(r, "image-remove-after-index");
    auto rm = r.cli({"image", "rm", "doomed:1"});
    CHECK(rm.code != 0);
    CHECK_MESSAGE(rm.err.find("crashed") != std::string::npos, rm.err);
    CHECK(r.cli({"system", "status"}).code == 0);  // the daemon serves on
    CHECK(r.cli({"image", "ls", "-q", "doomed:1"}).out.empty());
    CHECK(count() == before);  // the restarted plugin collected what the removal owed
    CHECK_FALSE(fs::exists(r.path() / "var/lib/container/plugins/image-oci/gc-pending"));
    CHECK(r.cli({"run", "--rm", ctr::test::shared_busybox().image, "true"}).code == 0);  // what stays still works
    REQUIRE(r.cli({"system", "stop"}).code == 0);  // disarmed, for the reset that ends the test
    r.start();
}
