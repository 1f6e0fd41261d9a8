#include <ctr/base/fatal_log.hpp>
#include <ctr/base/log.hpp>
#include <ctr/sys/files.hpp>
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

// Runs `die` in a child that records its fatal exits to `log`; answers the
// child's wait status. No core file: the test's directory stays clean.
int status_of_child(const std::string& log, void (*die)()) {
    pid_t pid = ::fork();
    if (pid == 0) {
        rlimit none{0, 0};
        ::setrlimit(RLIMIT_CORE, &none);
        ctr::log::init("fatal-test", false);
        ctr::log::add_file(log);
        ctr::log::record_fatal_exits(log);
        die();
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

}  // namespace

TEST_CASE("record_fatal_exits: an exception that escapes a thread is logged before the abort") {
    ctr::test::ScratchDir dir;
    auto log = (dir.path() / "daemon.log").string();
    int status = status_of_child(log, [] { std::thread([] { throw std::runtime_error("the handler broke"); }).join(); });
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGABRT);
    auto text = ctr::sys::read_file(log);
    REQUIRE(text);
    CHECK(text->find("terminating on an uncaught exception: the handler broke") != std::string::npos);
}

TEST_CASE("record_fatal_exits: a fatal signal leaves one line, and the process still dies of it") {
    ctr::test::ScratchDir dir;
    auto log = (dir.path() / "daemon.log").string();
    int status = status_of_child(log, [] { ::raise(SIGSEGV); });
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGSEGV);
    auto text = ctr::sys::read_file(log);
    REQUIRE(text);
    CHECK(text->find(": fatal signal 11\n") != std::string::npos);
}
