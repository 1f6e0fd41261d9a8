// What a new user meets in the first hour, each path tried as they would:
// output that streams, environment that comes from the caller, commands
// mistyped, values checked before the runtime sees them, cp and export of a
// stopped container, disk use, prune, and the habits docker taught them.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"
#include "tests/support/terminal.hpp"
#include "tests/support/timed_lines.hpp"

#include <ctr/sys/files.hpp>

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <future>
#include <random>
#include <regex>
#include <thread>

using ctr::test::DaemonRoot;
using ctr::test::ScratchDir;
using ctr::test::time_of;
using ctr::test::timed_lines;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

ctr::test::BusyboxRegistry& first_hour_busybox() {
    static ctr::test::BusyboxRegistry s("for a in head stat wc tar; do ln -sf busybox bin/$a; done");
    return s;
}

std::vector<std::string> cli_argv(const DaemonRoot& r, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {(ctr::test::build_root() / "host/container").string(), "--root", r.root()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

// "a", three seconds, "b": a line is on our stdout when it was printed
// exactly when "a" came well before "b" (a client that waits for its buffer
// or for the end shows both together).
const char* const kSlowPair = "echo a; sleep 3; echo b";

void check_streamed(const std::vector<ctr::test::TimedLine>& lines, const std::string& a, const std::string& b) {
    double ta = time_of(lines, a), tb = time_of(lines, b);
    INFO("first line at " << ta << " s, second at " << tb << " s");
    REQUIRE(ta >= 0);
    REQUIRE(tb >= 0);
    CHECK(tb - ta > 2.0);
}

int count_of(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("output without a terminal reaches the CLI's stdout as it is printed: run, logs -f, exec, system logs -f" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"image", "pull", "--progress", "none", first_hour_busybox().image}).code == 0);
    check_streamed(timed_lines(cli_argv(r, {"run", "--rm", first_hour_busybox().image, "sh", "-c", kSlowPair})), "a", "b");

    REQUIRE(r.cli({"run", "-d", "--name", "talker", first_hour_busybox().image, "sh", "-c", std::string("sleep 1; ") + kSlowPair}).code == 0);
    check_streamed(timed_lines(cli_argv(r, {"logs", "-f", "talker"})), "a", "b");

    REQUIRE(r.cli({"run", "-d", "--name", "idle", first_hour_busybox().image, "sleep", "600"}).code == 0);
    check_streamed(timed_lines(cli_argv(r, {"exec", "idle", "sh", "-c", kSlowPair})), "a", "b");

    // The daemon's own log: a container made 2 s into the follow shows up then.
    auto later = std::async(std::launch::async, [&r] {
        std::this_thread::sleep_for(std::chrono::seconds(2));
        return r.cli({"create", "--name", "made-later", first_hour_busybox().image, "true"}).code;
    });
    auto log = timed_lines(cli_argv(r, {"system", "logs", "-f", "-n", "0"}), 6000);
    CHECK(later.get() == 0);
    double seen = -1;
    for (const auto& l : log)
        if (l.text.find("created container made-later") != std::string::npos) seen = l.at_s;
    INFO("seen at " << seen << " s");
    CHECK(seen > 1.5);
    CHECK(seen < 5.0);  // not at the end of the 6 s follow, when we killed it
}

TEST_CASE("compose up in the foreground and compose logs -f stream each line as it comes" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ScratchDir dir;
    const std::string file = (dir.path() / "compose.yaml").string();
    REQUIRE(ctr::sys::write_file_atomic(file, "name: slow\nservices:\n  s:\n    image: " + first_hour_busybox().image +
                                                  "\n    command: [sh, -c, 'sleep 1; " + kSlowPair + "']\n"));
    check_streamed(timed_lines(cli_argv(r, {"compose", "-f", file, "up"})), "slow-s-1 | a", "slow-s-1 | b");
    REQUIRE(r.cli({"compose", "-f", file, "down"}).code == 0);
    REQUIRE(r.cli({"compose", "-f", file, "up", "-d"}).code == 0);
    check_streamed(timed_lines(cli_argv(r, {"compose", "-f", file, "logs", "-f"})), "slow-s-1 | a", "slow-s-1 | b");
    CHECK(r.cli({"compose", "-f", file, "down"}).code == 0);
}

TEST_CASE("-e KEY and env-file lines take the caller's environment, never the daemon's" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start({"ONLY_IN_DAEMON=leaked", "SHARED_NAME=daemon-value"});
    ScratchDir dir;
    auto env_file = dir.path() / "vars.env";
    REQUIRE(ctr::sys::write_file_atomic(env_file, "# a comment\nexport EXPORTED=1\nPLAIN=two words\nFROM_FILE_BARE\nONLY_IN_DAEMON\n\n"));
    auto res = r.cli({"run", "--rm", "--env-file", env_file.string(), "-e", "SHARED_NAME", "-e", "ONLY_IN_DAEMON", "-e", "UNSET_ANYWHERE",
                      first_hour_busybox().image, "env"},
                     {"SHARED_NAME=caller-value", "FROM_FILE_BARE=from-caller"});
    REQUIRE(res.code == 0);
    CHECK(res.out.find("SHARED_NAME=caller-value\n") != std::string::npos);
    CHECK(res.out.find("EXPORTED=1\n") != std::string::npos);  // "export " stripped, as docker does
    CHECK(res.out.find("export") == std::string::npos);
    CHECK(res.out.find("PLAIN=two words\n") != std::string::npos);
    CHECK(res.out.find("FROM_FILE_BARE=from-caller\n") != std::string::npos);
    CHECK(res.out.find("ONLY_IN_DAEMON") == std::string::npos);
    CHECK(res.out.find("UNSET_ANYWHERE") == std::string::npos);
    CHECK(res.out.find("daemon-value") == std::string::npos);

    // exec -e too; and a bare KEY sent to the API straight removes the
    // variable: it is never looked up in the daemon.
    REQUIRE(r.cli({"run", "-d", "--name", "e", "-e", "KEEP=1", "-e", "DROP=1", first_hour_busybox().image, "sleep", "600"}).code == 0);
    auto ex = r.cli({"exec", "-e", "SHARED_NAME", "-e", "ONLY_IN_DAEMON", "e", "env"}, {"SHARED_NAME=exec-caller"});
    CHECK(ex.out.find("SHARED_NAME=exec-caller\n") != std::string::npos);
    CHECK(ex.out.find("ONLY_IN_DAEMON") == std::string::npos);
    auto raw = r.cli({"exec", "-e", "DROP=", "e", "env"});
    CHECK(raw.out.find("DROP=\n") != std::string::npos);
    CHECK(raw.out.find("KEEP=1\n") != std::string::npos);
}

TEST_CASE("a mistyped command names itself with the nearest one; usage errors point to the command's own help") {
    DaemonRoot r;
    auto ps = r.cli({"lst"});
    CHECK(ps.code == 125);
    CHECK(ps.err.find("unknown command \"lst\" for \"container\"; did you mean \"ls\"?") != std::string::npos);
    auto sub = r.cli({"system", "stp"});
    CHECK(sub.code == 125);
    CHECK(sub.err.find("unknown command \"stp\" for \"container system\"; did you mean \"stop\"?") != std::string::npos);
    CHECK(sub.err.find("Run 'container system --help' for usage.") != std::string::npos);
    auto far = r.cli({"frobnicate"});
    CHECK(far.err.find("unknown command \"frobnicate\"") != std::string::npos);
    CHECK(far.err.find("did you mean") == std::string::npos);
    auto flag = r.cli({"run", "--no-such-flag", "x"});
    CHECK(flag.code == 125);
    CHECK(flag.err.find("Run 'container run --help' for usage.") != std::string::npos);
    // A value of an option is no command: --root's value is skipped.
    CHECK(r.cli({"--debug", "system", "version"}).code == 0);
    // Nothing of this started a daemon.
    CHECK(r.daemon_pid() == 0);
}

TEST_CASE("values are checked before the runtime sees them, with the range in words" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto tiny = r.cli({"run", "--rm", "--cpus", "0.001", first_hour_busybox().image, "true"});
    CHECK(tiny.code == 125);
    CHECK(tiny.err.find("--cpus 0.001: the range is from 0.01 to ") != std::string::npos);
    auto many = r.cli({"run", "--rm", "--cpus", "4096", first_hour_busybox().image, "true"});
    CHECK(many.code == 125);
    CHECK(many.err.find("as this host has") != std::string::npos);
    auto negative = r.cli({"stop", "-t", "-5", "x"});
    CHECK(negative.code == 125);
    CHECK(negative.err.find("\"-5\" is not a whole number of seconds from 0 to 86400") != std::string::npos);
    CHECK(negative.err.size() < 200);
    auto timeout = r.cli({"create", "--stop-timeout", "-3", first_hour_busybox().image, "true"});
    CHECK(timeout.code == 125);
    CHECK(timeout.err.find("from -1 to 86400") != std::string::npos);
    CHECK(r.cli({"ls", "-a", "-q"}).out.empty());  // nothing half-made
}

TEST_CASE("system kernel: its help is the user's, and its errors speak as container") {
    DaemonRoot r;
    auto help = r.cli({"system", "kernel", "--help"});
    CHECK(help.code == 0);
    CHECK(help.out.find("container system kernel") != std::string::npos);
    CHECK(help.out.find("--state-dir") == std::string::npos);
    CHECK(help.out.find("REQUIRED") == std::string::npos);
    auto bad = r.cli({"system", "kernel", "ls", "--bogus"});
    CHECK(bad.code == 125);
    CHECK(bad.err.rfind("container: ", 0) == 0);
    CHECK(bad.err.find("Run 'container system kernel ls --help'") != std::string::npos);
    auto quiet = r.cli({"system", "kernel", "ls", "-q"});
    CHECK(quiet.code == 0);
    CHECK(quiet.err.empty());
}

TEST_CASE("small ones: exec's error once, top's rows, rm -f of nothing, ls with exit codes and ports, RFC 3339 in inspect" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const std::string port = std::to_string(20000 + std::random_device{}() % 20000);
    REQUIRE(r.cli({"run", "-d", "--name", "w", "-p", "127.0.0.1:" + port + ":80", first_hour_busybox().image, "sleep", "600"}).code == 0);
    auto missing = r.cli({"exec", "w", "nosuchcmd"});
    CHECK(missing.code == 127);
    CHECK(count_of(missing.err, "nosuchcmd") == 1);
    CHECK(missing.err.rfind("container: ", 0) == 0);
    auto denied = r.cli({"exec", "w", "/etc/passwd"});
    CHECK(denied.code == 126);
    CHECK(count_of(denied.err, "permission denied") == 1);
    auto top = r.cli({"top", "w"});
    CHECK(top.code == 0);
    std::istringstream rows(top.out);
    for (std::string row; std::getline(rows, row);) {
        CAPTURE(row);
        CHECK(std::regex_match(row, std::regex(R"(\d+\s+\d+\s+\S.*|PID\s+PPID\s+COMMAND)")));
    }

    auto gone = r.cli({"rm", "-f", "no-such-container"});
    CHECK(gone.code == 0);
    CHECK(gone.err.empty());
    CHECK(r.cli({"rm", "no-such-container"}).code == 125);

    REQUIRE(r.cli({"run", "--name", "three", first_hour_busybox().image, "sh", "-c", "exit 3"}).code == 3);
    auto ls = r.cli({"ls", "-a"});
    CHECK(ls.out.find("PORTS") != std::string::npos);
    CHECK(std::regex_search(ls.out, std::regex(R"(three\s.*exited \(3\))")));
    CHECK(std::regex_search(ls.out, std::regex("w\\s.*running.*127\\.0\\.0\\.1:" + port + "->80/tcp")));
    // The table is made from summaries; the json listing keeps whole configs.
    auto listed = json::parse(r.cli({"ls", "-a", "--format", "json"}).out);
    REQUIRE(listed.size() >= 2);
    for (const auto& c : listed) CHECK(c["config"].contains("cmd"));

    auto inspect = json::parse(r.cli({"inspect", "three"}).out)[0];
    std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
    CHECK(std::regex_match(inspect["created_at"].get<std::string>(), rfc3339));
    CHECK(std::regex_match(inspect["finished_at"].get<std::string>(), rfc3339));
    auto volume = r.cli({"volume", "create", "v"});
    REQUIRE(volume.code == 0);
    CHECK(std::regex_match(json::parse(r.cli({"volume", "inspect", "v"}).out)[0]["created_at"].get<std::string>(), rfc3339));
}

TEST_CASE("cp and export of a stopped container give what it saw: /etc/hosts and resolv.conf with their contents and modes" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ScratchDir out;
    REQUIRE(r.cli({"volume", "create", "data"}).code == 0);
    REQUIRE(r.cli({"run", "--name", "s", "-v", "data:/data", first_hour_busybox().image, "sh", "-c", "echo kept > /data/f"}).code == 0);
    for (const char* file : {"/etc/hosts", "/etc/resolv.conf"}) {
        auto dest = out.path() / fs::path(file).filename();
        REQUIRE(r.cli({"cp", std::string("s:") + file, dest.string()}).code == 0);
        auto text = ctr::sys::read_file(dest);
        REQUIRE(text.has_value());
        CHECK_MESSAGE(!text->empty(), file);
        struct stat st {};
        REQUIRE(::stat(dest.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0644);
    }
    CHECK(ctr::sys::read_file(out.path() / "hosts")->find(" s\n") != std::string::npos);  // its own name is in it
    // Its volume, as it saw it.
    REQUIRE(r.cli({"cp", "s:/data/f", (out.path() / "f").string()}).code == 0);
    CHECK(*ctr::sys::read_file(out.path() / "f") == "kept\n");

    auto tar = out.path() / "s.tar";
    REQUIRE(r.cli({"export", "-o", tar.string(), "s"}).code == 0);
    ctr::sys::RunOptions o;
    auto listing = ctr::sys::run_capture({"/bin/tar", "-tvf", tar.string()}, o);
    REQUIRE(listing.has_value());
    CHECK(std::regex_search(listing->out, std::regex(R"(-rw-r--r-- 0/0\s+[1-9]\d*\s.*etc/hosts\n)")));
    CHECK(listing->out.find("data/f") == std::string::npos);  // volumes are not the container's filesystem
}

TEST_CASE("system df counts what is used, shared layers once, and the containers' own writes; prune says what it freed" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"image", "pull", "--progress", "none", first_hour_busybox().image}).code == 0);
    auto row = [&r](const std::string& type) {
        for (const auto& x : json::parse(r.cli({"system", "df", "--format", "json"}).out))
            if (x["type"] == type) return x;
        return json();
    };
    int64_t one_tag = row("images")["size"];
    CHECK(one_tag > 0);
    REQUIRE(r.cli({"image", "tag", first_hour_busybox().image, "second:tag"}).code == 0);
    CHECK(row("images")["total"] == 2);
    CHECK(row("images")["size"] == one_tag);  // the same layers, counted once
    CHECK(row("images")["reclaimable"] == one_tag);
    CHECK(row("images")["active"] == 0);

    REQUIRE(r.cli({"run", "--name", "writer", first_hour_busybox().image, "sh", "-c", "head -c 3000000 /dev/zero > /big"}).code == 0);
    auto containers = row("containers");
    CHECK(containers["total"] == 1);
    CHECK(containers["active"] == 0);
    CHECK(containers["size"].get<int64_t>() >= 3000000);
    CHECK(containers["reclaimable"] == containers["size"]);
    CHECK(row("images")["active"] == 1);
    CHECK(row("images")["reclaimable"] == 0);  // its layers are the used image's too

    // An image a container was made from stays, unless forced.
    auto refused = r.cli({"image", "rm", first_hour_busybox().image});
    CHECK(refused.code == 125);
    CHECK(refused.err.find("is used by container writer") != std::string::npos);

    auto pruned = r.cli({"prune"});
    CHECK(pruned.code == 0);
    CHECK(std::regex_search(pruned.out, std::regex(R"(Total reclaimed space: 2\.\d MiB)")));
    CHECK(r.cli({"image", "rm", first_hour_busybox().image}).code == 0);

    // volume prune: anonymous ones only, unless -a.
    REQUIRE(r.cli({"volume", "create", "named"}).code == 0);
    REQUIRE(r.cli({"run", "--name", "anon", "-v", "/scratch", first_hour_busybox().image, "true"}).code == 0);
    REQUIRE(r.cli({"rm", "anon"}).code == 0);
    auto vp = r.cli({"volume", "prune"});
    CHECK(vp.out.find("named") == std::string::npos);
    CHECK(vp.out.find("Total reclaimed space:") != std::string::npos);
    CHECK(r.cli({"volume", "ls", "-q"}).out == "named\n");
    CHECK(r.cli({"volume", "prune", "-a"}).out.find("named\n") != std::string::npos);
    CHECK(r.cli({"volume", "ls", "-q"}).out.empty());
    CHECK(r.cli({"network", "prune"}).out.find("Total reclaimed space:") != std::string::npos);
    CHECK(r.cli({"image", "prune", "-a"}).out.find("Total reclaimed space:") != std::string::npos);
}

TEST_CASE("a relative bind source is the caller's working directory's" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ScratchDir here;
    fs::create_directories(here.path() / "data");
    REQUIRE(ctr::sys::write_file_atomic(here.path() / "data/f", "relative\n"));
    ctr::sys::RunOptions o;
    o.cwd = here.path().string();
    o.capture_stderr = true;
    auto res = ctr::sys::run_capture({(ctr::test::build_root() / "host/container").string(), "--root", r.root(), "run", "--rm", "-v",
                                      "./data:/data:ro", first_hour_busybox().image, "cat", "/data/f"},
                                     o);
    REQUIRE(res.has_value());
    INFO(res->err);
    CHECK(res->out == "relative\n");
    auto mount = ctr::sys::run_capture({(ctr::test::build_root() / "host/container").string(), "--root", r.root(), "run", "--rm",
                                        "--mount", "type=bind,source=./data,target=/m", first_hour_busybox().image, "cat", "/m/f"},
                                       o);
    REQUIRE(mount.has_value());
    CHECK(mount->out == "relative\n");
}

TEST_CASE("detach keys leave a session and the container running: run -it, attach, exec -it" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"image", "pull", "--progress", "none", first_hour_busybox().image}).code == 0);
    auto run = ctr::test::in_terminal(r, "$CTR run -it --name d " + first_hour_busybox().image + " sh", "sleep 2; printf '\\020\\021'; sleep 2");
    INFO(run.out);
    CHECK(run.code == 0);
    CHECK(ctr::test::without_cr(run.out).find("detached from") != std::string::npos);
    auto state = json::parse(r.cli({"inspect", "d"}).out)[0]["state"];
    CHECK(state == "running");

    auto att = ctr::test::in_terminal(r, "$CTR attach --detach-keys ctrl-a,d d",
                                      "sleep 1; printf 'echo still-here\\n'; sleep 1; printf '\\001d'; sleep 2");
    INFO(att.out);
    CHECK(att.code == 0);
    CHECK(att.out.find("still-here") != std::string::npos);
    CHECK(json::parse(r.cli({"inspect", "d"}).out)[0]["state"] == "running");

    auto ex = ctr::test::in_terminal(r, "$CTR exec -it d sh", "sleep 1; printf '\\020\\021'; sleep 2");
    CHECK(ex.code == 0);
    CHECK(ex.out.find("detached from") != std::string::npos);
    CHECK(r.cli({"run", "--rm", "--detach-keys", "ctrl-", first_hour_busybox().image, "true"}).err.find("--detach-keys: \"ctrl-\" is not a key") !=
          std::string::npos);
}
