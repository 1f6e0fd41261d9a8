#include <ctr/sys/child.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/io.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>

#include "tests/support/skip.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <sched.h>
#include <cstdlib>
#include <chrono>
#include <cstdint>
#include <csignal>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using ctr::sys::run_capture;

TEST_CASE("run_capture collects stdout and the exit code") {
    auto r = run_capture({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}, 5000);
    REQUIRE(r.has_value());
    CHECK(r->out == "out\n");
    CHECK(r->err.empty());  // stderr goes to /dev/null unless asked for
    CHECK(r->status.code == 3);
    CHECK_FALSE(r->status.success());
    CHECK(r->status.describe() == "exited with code 3");
}

TEST_CASE("run_capture can capture stderr and add environment") {
    ctr::sys::RunOptions o;
    o.capture_stderr = true;
    o.env = {"CTR_TEST_VALUE=forty-two"};
    auto r = run_capture({"/bin/sh", "-c", "echo $CTR_TEST_VALUE; echo oops >&2"}, o);
    REQUIRE(r.has_value());
    CHECK(r->out == "forty-two\n");
    CHECK(r->err == "oops\n");
    CHECK(r->status.success());
}

TEST_CASE("run_capture reports signals and kills at the deadline") {
    auto killed = run_capture({"/bin/sh", "-c", "kill -SEGV $$"}, 5000);
    REQUIRE(killed.has_value());
    CHECK(killed->status.signal == 11);
    CHECK(killed->status.describe().find("killed by signal 11") == 0);

    auto slow = run_capture({"/bin/sleep", "10"}, 200);
    REQUIRE(slow.has_value());
    CHECK(slow->status.timed_out);
    CHECK(slow->status.describe(200) == "timed out after 200 ms");

    auto missing = run_capture({"/no/such/binary"}, 1000);
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().status == CTR_E_NOT_FOUND);
}

TEST_CASE("a child does not inherit an ignored SIGPIPE (the daemon ignores it)") {
    auto before = std::signal(SIGPIPE, SIG_IGN);
    auto r = run_capture({"/bin/sh", "-c", "grep SigIgn /proc/self/status"}, 5000);
    std::signal(SIGPIPE, before);
    REQUIRE(r.has_value());
    auto hex = r->out.substr(r->out.find(':') + 1);
    unsigned long long ignored = std::stoull(hex, nullptr, 16);
    CHECK((ignored & (1ULL << (SIGPIPE - 1))) == 0);
}

TEST_CASE("write_all_nosignal: a pipe whose reader is gone gives false, and this process lives on") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    ::close(p[0]);
    CHECK_FALSE(ctr::sys::write_all_nosignal(p[1], "nobody reads this"));
    CHECK(errno == EPIPE);
    sigset_t pending;
    sigpending(&pending);
    CHECK(sigismember(&pending, SIGPIPE) == 0);  // taken, not left for later
    ::close(p[1]);
}

namespace {
char state_of(pid_t pid) {
    auto stat = ctr::sys::read_file("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return '?';
    auto close = stat->rfind(')');
    return close != std::string::npos && close + 2 < stat->size() ? (*stat)[close + 2] : '?';
}
}  // namespace

TEST_CASE("process_ended: not while any thread runs, even when the leader shows as a zombie (process_exiting); yes before the reap") {
    int go[2];
    REQUIRE(::pipe(go) == 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        // A thread that lives on until told, and a leader thread that ends now.
        std::thread([fd = go[0]] {
            char c;
            [[maybe_unused]] auto n = ::read(fd, &c, 1);
            ::syscall(SYS_exit_group, 0);
        }).detach();
        ::syscall(SYS_exit, 0);
    }
    ::close(go[0]);
    for (int i = 0; i < 500 && state_of(pid) != 'Z'; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(state_of(pid) == 'Z');  // the leader is a zombie...
    CHECK_FALSE(ctr::sys::process_ended(pid));  // ...and the process has not ended
    CHECK(ctr::sys::process_exiting(pid));
    CHECK(::write(go[1], "x", 1) == 1);
    bool ended = false;
    for (int i = 0; i < 500 && !(ended = ctr::sys::process_ended(pid)); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(ended);  // ended, though not reaped yet
    CHECK_FALSE(ctr::sys::process_exiting(pid));
    CHECK(::waitpid(pid, nullptr, 0) == pid);
    CHECK(ctr::sys::process_ended(pid));
    ::close(go[1]);
}

TEST_CASE("read_proc_stat: our own state, parent and CPU time; nothing for a pid that is gone") {
    auto me = ctr::sys::read_proc_stat(::getpid());
    REQUIRE(me.has_value());
    CHECK(me->state == 'R');
    CHECK(me->ppid == ::getppid());
    CHECK(me->comm == std::string(program_invocation_short_name).substr(0, 15));  // the kernel keeps 15 bytes
    volatile uint64_t spin = 0;
    for (int i = 0; i < 50000000; ++i) spin = spin + static_cast<uint64_t>(i);
    CHECK(ctr::sys::read_proc_stat(::getpid())->cpu_ns() > 0);
    CHECK(ctr::sys::host_cpu_ns() > ctr::sys::read_proc_stat(::getpid())->cpu_ns());  // the host's time includes ours
    CHECK_FALSE(ctr::sys::read_proc_stat(0).has_value());
    CHECK_FALSE(ctr::sys::read_proc_stat(-1).has_value());
}

TEST_CASE("list_processes: the processes a filter keeps, with parent and command line; a zombie by its [comm]") {
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);  // stays a zombie until we reap it
    REQUIRE(child > 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto list = ctr::sys::list_processes([&](pid_t p) { return p == ::getpid() || p == child; });
    REQUIRE(list.size() == 2);
    const auto& me = list[0].pid == ::getpid() ? list[0] : list[1];
    const auto& zombie = list[0].pid == child ? list[0] : list[1];
    CHECK(me.pid == ::getpid());
    CHECK(me.ppid == ::getppid());
    CHECK(me.command.find(program_invocation_short_name) != std::string::npos);
    CHECK(zombie.pid == child);
    CHECK(zombie.ppid == ::getpid());
    CHECK(zombie.command == "[" + std::string(program_invocation_short_name).substr(0, 15) + "]");
    ::waitpid(child, nullptr, 0);
    CHECK(ctr::sys::list_processes([&](pid_t p) { return p == child; }).empty());
    // A container in our own PID namespace is listed by its cgroups, never
    // the whole host; one that is gone has nothing.
    CHECK(ctr::sys::container_processes(child).empty());
}

TEST_CASE("find_program: PATH first, then the sbin folders an ordinary user's PATH lacks; an absolute path only if it exists") {
    const char* saved = std::getenv("PATH");
    const std::string path = saved ? saved : "";
    ::setenv("PATH", "/nonexistent-ctr-test", 1);
    const std::string tc = ctr::sys::find_program("tc");  // iproute2's, in sbin
    CHECK(tc.size() > 7);
    CHECK(tc.substr(tc.size() - 7) == "sbin/tc");
    CHECK(ctr::sys::find_program("sh").empty());  // in bin only: not found off PATH
    CHECK(ctr::sys::find_program("no-such-program-ctr").empty());
    CHECK(ctr::sys::find_program("/bin/sh") == "/bin/sh");
    CHECK(ctr::sys::find_program("/nonexistent-ctr-test/sh").empty());
    ::setenv("PATH", "/usr/bin", 1);
    CHECK(ctr::sys::find_program("sh") == "/usr/bin/sh");
    ::setenv("PATH", path.c_str(), 1);
}

namespace {

// In a new PID namespace, as its init: a bystander process, and a Child
// stopped by two threads at once (runtime-microvm's wait and delete did
// so). 0 when the bystander lived through it. A stop that signalled a pid
// another thread had already cleared to -1 was kill(-1, SIGKILL): every
// process but the caller, here only the namespace's; once, on CI, the
// machine's.
int stop_twice_as_init() {
    auto bystander = ctr::sys::spawn({"/bin/sleep", "60"}, ctr::sys::SpawnOptions{});
    if (!bystander) return 10;
    for (int round = 0; round < 20; ++round) {
        auto child = ctr::sys::Child::spawn({"/bin/sleep", "60"});
        if (!child) return 11;
        std::thread other([&] { child->stop(200); });
        child->stop(200);
        other.join();
        if (child->pid() != -1) return 12;
        if (::waitpid(*bystander, nullptr, WNOHANG) != 0) return 13;  // the bystander died
    }
    ::kill(*bystander, SIGKILL);
    ::waitpid(*bystander, nullptr, 0);
    return 0;
}

}  // namespace

TEST_CASE("a Child stopped from two threads at once is signalled and reaped once; no other process is touched" * CTR_NEEDS_ROOT) {
    pid_t outer = ::fork();
    REQUIRE(outer >= 0);
    if (outer == 0) {
        if (::unshare(CLONE_NEWPID) != 0) ::_exit(20);
        pid_t init = ::fork();
        if (init < 0) ::_exit(21);
        if (init == 0) ::_exit(stop_twice_as_init());
        int st = 0;
        ::waitpid(init, &st, 0);
        ::_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 30);
    }
    int status = 0;
    REQUIRE(::waitpid(outer, &status, 0) == outer);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
