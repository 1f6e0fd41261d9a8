#include <ctr/sys/userns.hpp>

#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

TEST_CASE("subordinate_ranges: the user's lines by name or number, others and bad lines ignored") {
    ctr::test::ScratchDir dir;
    const auto file = dir.path() / "subuid";
    std::ofstream(file) << "ann:100000:65536\n"
                           "bob:165536:65536\n"
                           "1001:300000:1000\n"
                           "ann:400000\n"       // no count: not a range
                           "ann:x:10\n"         // not a number
                           "ann:500000:0\n"     // empty
                           "anne:600000:10\n";  // another name that starts alike
    auto r = ctr::sys::subordinate_ranges(file, "ann", 1001);
    REQUIRE(r.size() == 2);
    CHECK(r[0].start == 100000);
    CHECK(r[0].count == 65536);
    CHECK(r[1].start == 300000);
    CHECK(r[1].count == 1000);
    CHECK(ctr::sys::subordinate_ranges(file, "carol", 1002).empty());
    CHECK(ctr::sys::subordinate_ranges(dir.path() / "missing", "ann", 1001).empty());
}

TEST_CASE("id_map_args: 0 is the user, then each range in turn from 1") {
    using V = std::vector<std::string>;
    CHECK(ctr::sys::id_map_args(1001, {}) == V{"0", "1001", "1"});
    CHECK(ctr::sys::id_map_args(1001, {{100000, 65536}, {300000, 1000}}) ==
          V{"0", "1001", "1", "1", "100000", "65536", "65537", "300000", "1000"});
}

TEST_CASE("may_make_cgroups: always outside a user namespace, inside one only where a subtree was delegated") {
    ::setenv(ctr::sys::kRootlessCgroupsEnv, "none", 1);
    CHECK(ctr::sys::may_make_cgroups());  // the host's root: the variable is not for it
    ::unsetenv(ctr::sys::kRootlessCgroupsEnv);
    // Inside a new user namespace, in a child (this process keeps its own).
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (::unshare(CLONE_NEWUSER) != 0) ::_exit(10);
        int bad = 0;
        if (ctr::sys::may_make_cgroups()) bad |= 1;  // nothing said: none
        ::setenv(ctr::sys::kRootlessCgroupsEnv, "none", 1);
        if (ctr::sys::may_make_cgroups()) bad |= 2;
        ::setenv(ctr::sys::kRootlessCgroupsEnv, "delegated", 1);
        if (!ctr::sys::may_make_cgroups()) bad |= 4;
        ::_exit(bad);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
