// Terminals and stdin end to end: `run -i` and `run -it`, `attach`,
// `start -a -i`, with a real pty on our side (util-linux's `script`) and
// runtime-linux's pty in the container.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"
#include "tests/support/terminal.hpp"

#include <ctr/sys/process.hpp>

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <thread>

using ctr::test::DaemonRoot;
using ctr::test::Registry;
using ctr::test::ScratchDir;
using nlohmann::json;
using ctr::test::in_terminal;
using ctr::test::shell;
using ctr::test::without_cr;

namespace {

ctr::test::BusyboxRegistry& tty_busybox() {
    static ctr::test::BusyboxRegistry s("for a in tty stty read trap wc tr; do ln -sf busybox bin/$a; done");
    return s;
}

}  // namespace

TEST_CASE("run -i passes stdin to the container, keeps stdout and stderr apart, and closes stdin at our EOF" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto res = shell(r, "printf 'line one\\nline two\\n' | $CTR run --rm -i " + tty_busybox().image + " sh -c 'cat; echo to-stderr >&2; exit 4'");
    CHECK(res.code == 4);
    CHECK(res.out == "line one\nline two\n");
    CHECK(res.err.find("to-stderr\n") != std::string::npos);
    // Without -i the container's stdin is empty.
    auto no_i = shell(r, "echo ignored | $CTR run --rm " + tty_busybox().image + " cat");
    CHECK(no_i.code == 0);
    CHECK(no_i.out.empty());
}

TEST_CASE("run -it gives a terminal of our size, takes what we type, and exits with the container's code" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"image", "pull", "--progress", "none", tty_busybox().image}).code == 0);
    auto res = in_terminal(r, "$CTR run --rm -t " + tty_busybox().image + " sh -c 'tty; stty size; echo TERM=$TERM; exit 3'");
    INFO(res.err);
    INFO(res.out);
    CHECK(res.code == 3);
    std::string out = without_cr(res.out);
    CHECK(out.find("/dev/pts/0\n") != std::string::npos);
    CHECK(out.find("33 101\n") != std::string::npos);
    CHECK(out.find("TERM=xterm\n") != std::string::npos);
    // A shell reading what we type.
    auto typed = in_terminal(r, "$CTR run --rm -it " + tty_busybox().image + " sh", "sleep 1; printf 'echo from-typing; exit 6\\n'; sleep 5");
    CHECK(typed.code == 6);
    CHECK(without_cr(typed.out).find("\nfrom-typing\n") != std::string::npos);
    // Ctrl-C goes through the terminal to the process, not to us.
    auto interrupted = in_terminal(r, "$CTR run --rm -it " + tty_busybox().image + " sh -c 'trap \"echo got-int; exit 7\" INT; sleep 30 & wait'",
                                   "sleep 1.5; printf '\\003'; sleep 5");
    CHECK(interrupted.code == 7);
    CHECK(interrupted.out.find("got-int") != std::string::npos);
    CHECK(r.cli({"ls", "-a", "-q"}).out.empty());
}

TEST_CASE("without -t, a signal to the CLI reaches the container (sig-proxy)" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"image", "pull", "--progress", "none", tty_busybox().image}).code == 0);
    auto res = shell(r, "$CTR run --rm --name proxied " + tty_busybox().image +
                            " sh -c 'trap \"echo got-term; exit 9\" TERM; echo ready; sleep 30 & wait' & pid=$!; "
                            "for i in $(seq 100); do $CTR logs proxied 2>/dev/null | grep -q ready && break; sleep 0.1; done; "
                            "kill -TERM $pid; wait $pid");
    INFO(res.err);
    CHECK(res.code == 9);
    CHECK(res.out.find("got-term\n") != std::string::npos);
}

TEST_CASE("attach feeds a detached -i container; start -a -i runs a created one attached" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "-i", "--name", "reader", tty_busybox().image, "sh", "-c", "read line; echo got:$line; exit 2"}).code == 0);
    auto attached = shell(r, "echo hello | $CTR attach reader");
    CHECK(attached.code == 2);
    CHECK(r.logs_when("reader", "got:hello") == "got:hello\n");
    // Nothing to attach to: made without -i or -t, or not running.
    REQUIRE(r.cli({"run", "-d", "--name", "plain", tty_busybox().image, "sleep", "30"}).code == 0);
    auto plain = r.cli({"attach", "plain"});
    CHECK(plain.code == 125);
    CHECK(plain.err.find("without -i or -t") != std::string::npos);
    auto stopped = r.cli({"attach", "reader"});
    CHECK(stopped.code == 125);
    CHECK(stopped.err.find("not running") != std::string::npos);

    REQUIRE(r.cli({"create", "-i", "--name", "later", tty_busybox().image, "sh", "-c", "cat; exit 5"}).code == 0);
    auto started = shell(r, "printf 'via start\\n' | $CTR start -a -i later");
    CHECK(started.code == 5);
    CHECK(started.out == "via start\n");
    CHECK(r.cli({"rm", "-f", "reader", "plain", "later"}).code == 0);
}

TEST_CASE("exec -i, exec -t and exec -it: stdin, a terminal of our size, the process's exit code" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "box", tty_busybox().image, "sleep", "300"}).code == 0);
    auto piped = shell(r, "printf 'piped in\\n' | $CTR exec -i box sh -c 'cat; echo to-stderr >&2; exit 4'");
    CHECK(piped.code == 4);
    CHECK(piped.out == "piped in\n");
    CHECK(piped.err.find("to-stderr\n") != std::string::npos);
    auto sized = in_terminal(r, "$CTR exec -t box sh -c 'tty; stty size; exit 6'");
    CHECK(sized.code == 6);
    INFO(sized.out);
    INFO(sized.err);
    CHECK(without_cr(sized.out).find("33 101\n") != std::string::npos);
    auto typed = in_terminal(r, "$CTR exec -it box sh", "sleep 1; printf 'echo typed-in; exit 8\\n'; sleep 5");
    CHECK(typed.code == 8);
    CHECK(without_cr(typed.out).find("\ntyped-in\n") != std::string::npos);
    auto missing = shell(r, "$CTR exec -i box no-such-command < /dev/null");
    CHECK(missing.code == 127);
    CHECK(missing.err.find("not found") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "box"}).code == 0);
}

TEST_CASE("exec -d runs a process in the background" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "box", tty_busybox().image, "sleep", "300"}).code == 0);
    CHECK(r.cli({"exec", "-d", "box", "sh", "-c", "sleep 1; echo done > /tmp/marker"}).code == 0);
    CHECK(r.cli({"exec", "box", "cat", "/tmp/marker"}).code != 0);  // not yet: exec -d did not wait
    std::string got;
    for (int i = 0; i < 50 && got.empty(); ++i) {
        got = r.cli({"exec", "box", "cat", "/tmp/marker"}).out;
        if (got.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(got == "done\n");
    CHECK(r.cli({"exec", "-d", "-i", "box", "true"}).code == 125);
    CHECK(r.cli({"rm", "-f", "box"}).code == 0);
}
