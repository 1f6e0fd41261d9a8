#include "ingest_follower.hpp"

#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <string>
#include <thread>
#include <unistd.h>

using namespace image_oci;

namespace {

// Reads everything the follower gives until 0 or -1; returns the bytes, or
// "<failed>" on -1.
std::string drain(IngestFollower& f) {
    std::string out;
    char buf[7];  // small: many reads, some of them waiting
    for (;;) {
        ssize_t n = f.read(buf, sizeof buf);
        if (n < 0) return "<failed>";
        if (n == 0) return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

}  // namespace

TEST_CASE("the reader gets every byte as the download appends them, and the end only once it is verified") {
    ctr::test::ScratchDir dir;
    auto path = dir.path() / "ingest";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    IngestFollower f(path);
    std::string want;
    for (int i = 0; i < 200; ++i) want += "chunk " + std::to_string(i) + "\n";
    f.grew(0);
    std::string got;
    std::thread reader([&] { got = drain(f); });
    int64_t written = 0;
    for (size_t at = 0; at < want.size(); at += 97) {
        auto part = want.substr(at, 97);
        REQUIRE(::write(fd, part.data(), part.size()) == static_cast<ssize_t>(part.size()));
        written += static_cast<int64_t>(part.size());
        f.grew(written);
        if (at % 970 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::close(fd);
    f.finish(true);
    reader.join();
    CHECK(got == want);
}

TEST_CASE("a download that starts over or fails makes the reader fail, not end") {
    ctr::test::ScratchDir dir;
    auto path = dir.path() / "ingest";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "abcdef", 6) == 6);
    ::close(fd);
    SUBCASE("started over") {
        IngestFollower f(path);
        f.grew(6);
        std::string got;
        std::thread reader([&] { got = drain(f); });
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        f.grew(2);  // smaller: the download truncated and began again
        reader.join();
        CHECK(got == "<failed>");
    }
    SUBCASE("failed") {
        IngestFollower f(path);
        f.grew(6);
        std::string got;
        std::thread reader([&] { got = drain(f); });
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        f.finish(false);
        reader.join();
        CHECK(got == "<failed>");
    }
    SUBCASE("already committed and gone before the first read") {
        IngestFollower f(dir.path() / "renamed-away");
        f.grew(6);
        f.finish(true);
        char c;
        CHECK(f.read(&c, 1) == -1);
    }
}
