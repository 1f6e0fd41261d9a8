// The marks of when log bytes were written: appended, read back, looked up.
#include <ctr/sys/log_index.hpp>
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <fstream>
#include <unistd.h>

using namespace ctr::sys;

TEST_CASE("log marks: the time of a byte, the first byte since a time, torn lines ignored") {
    ctr::test::ScratchDir d;
    auto log = d.path() / "stdout.log";
    int fd = ::open(LogIndex::index_of(log).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    append_mark(fd, {0, 1000});
    append_mark(fd, {6, 2000});
    append_mark(fd, {20, 3000});
    ::close(fd);
    {
        std::ofstream torn(LogIndex::index_of(log), std::ios::app);
        torn << "25";  // a crash mid-line: no time
    }
    auto idx = LogIndex::read(log);
    CHECK(idx.time_at(0) == 1000);
    CHECK(idx.time_at(5) == 1000);
    CHECK(idx.time_at(6) == 2000);
    CHECK(idx.time_at(100) == 3000);
    CHECK(idx.first_offset_since(1500) == 6);
    CHECK(idx.first_offset_since(3000) == 20);
    CHECK(idx.first_offset_since(3001) == -1);
    CHECK(LogIndex::read(d.path() / "none.log").empty());
    CHECK(LogIndex::read(d.path() / "none.log").time_at(3) == 0);
    CHECK(rfc3339_nano(1764346457000000005) == "2025-11-28T16:14:17.000000005Z");
}

TEST_CASE("a followed index is read on from where it was, a line being written only once it is whole") {
    ctr::test::ScratchDir d;
    auto log = d.path() / "stdout.log";
    int fd = ::open(LogIndex::index_of(log).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    append_mark(fd, {0, 1000});
    auto idx = LogIndex::read(log);
    CHECK(idx.time_at(50) == 1000);
    append_mark(fd, {40, 2000});
    REQUIRE(::write(fd, "90 30", 5) == 5);  // the next line, half written
    idx.refresh();
    CHECK(idx.time_at(50) == 2000);
    CHECK(idx.time_at(95) == 2000);
    REQUIRE(::write(fd, "00\n", 3) == 3);  // now whole: "90 3000"
    idx.refresh();
    CHECK(idx.time_at(95) == 3000);
    idx.refresh();  // nothing new: nothing changes
    CHECK(idx.time_at(95) == 3000);
    CHECK(idx.first_offset_since(2500) == 90);
    ::close(fd);
}
