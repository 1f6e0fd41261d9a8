// The frames between the daemon and a plugin host process (wire.hpp):
// round trips, the deadline, a clean end against a broken one, a length
// past the limit, and descriptors passed across.
#include <ctr/pluginhost/wire.hpp>
#include <ctr/sys/fd_passing.hpp>

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace ctr::pluginhost;
using ctr::sys::UniqueFd;

namespace {

struct Pair {
    UniqueFd a, b;
    Pair() {
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        a.reset(sv[0]);
        b.reset(sv[1]);
    }
};

wire::Clock::time_point soon(int ms = 2000) { return wire::Clock::now() + std::chrono::milliseconds(ms); }

}  // namespace

TEST_CASE("wire: frames round trip, empty and large, in order") {
    Pair p;
    std::string big(3u << 20, 'x');
    big[12345] = '\n';
    std::thread writer([&] {
        CHECK(wire::write_frame(p.a.get(), wire::kCall, "list\n{}"));
        CHECK(wire::write_frame(p.a.get(), wire::kCancel, ""));
        CHECK(wire::write_frame(p.a.get(), wire::kResult, big));
    });
    wire::Frame f;
    REQUIRE(wire::read_frame(p.b.get(), soon(), &f) == wire::ReadStatus::ok);
    CHECK(f.type == wire::kCall);
    CHECK(f.payload == "list\n{}");
    REQUIRE(wire::read_frame(p.b.get(), soon(), &f) == wire::ReadStatus::ok);
    CHECK(f.type == wire::kCancel);
    CHECK(f.payload.empty());
    REQUIRE(wire::read_frame(p.b.get(), soon(), &f) == wire::ReadStatus::ok);
    CHECK(f.type == wire::kResult);
    CHECK(f.payload == big);
    writer.join();
}

TEST_CASE("wire: nothing before the deadline is a timeout, and the tick runs meanwhile") {
    Pair p;
    int ticks = 0;
    wire::Frame f;
    auto started = wire::Clock::now();
    CHECK(wire::read_frame(p.b.get(), soon(350), &f, [&] { ++ticks; }) == wire::ReadStatus::timeout);
    CHECK(wire::Clock::now() - started >= std::chrono::milliseconds(350));
    CHECK(ticks >= 2);
}

TEST_CASE("wire: the peer gone between frames is an end, inside a frame a broken peer") {
    {
        Pair p;
        p.a.reset();
        wire::Frame f;
        CHECK(wire::read_frame(p.b.get(), soon(), &f) == wire::ReadStatus::eof);
    }
    {
        Pair p;
        const char partial[] = {wire::kResult, 10, 0, 0, 0, 'a', 'b'};  // 10 bytes promised, 2 sent
        REQUIRE(::write(p.a.get(), partial, sizeof partial) == static_cast<ssize_t>(sizeof partial));
        p.a.reset();
        wire::Frame f;
        CHECK(wire::read_frame(p.b.get(), soon(), &f) == wire::ReadStatus::bad);
    }
    {
        Pair p;
        p.b.reset();
        CHECK_FALSE(wire::write_frame(p.a.get(), wire::kCall, "list\n{}"));  // and no SIGPIPE
    }
}

TEST_CASE("wire: a length past the limit is refused before anything is allocated") {
    Pair p;
    const unsigned char head[] = {static_cast<unsigned char>(wire::kResult), 0xff, 0xff, 0xff, 0x7f};
    REQUIRE(::write(p.a.get(), head, sizeof head) == static_cast<ssize_t>(sizeof head));
    wire::Frame f;
    CHECK(wire::read_frame(p.b.get(), soon(), &f) == wire::ReadStatus::bad);
}

TEST_CASE("wire: a descriptor passed across reaches the same open file") {
    Pair control, data;
    REQUIRE(ctr::sys::send_fd(control.a.get(), data.a.get()));
    UniqueFd got = ctr::sys::recv_fd(control.b.get());
    REQUIRE(got.valid());
    CHECK(got.get() != data.a.get());
    REQUIRE(wire::write_frame(got.get(), wire::kHello, "hi"));
    wire::Frame f;
    REQUIRE(wire::read_frame(data.b.get(), soon(), &f) == wire::ReadStatus::ok);
    CHECK(f.payload == "hi");
    control.a.reset();
    CHECK_FALSE(ctr::sys::recv_fd(control.b.get()).valid());  // the daemon gone: the host's cue to end
}
