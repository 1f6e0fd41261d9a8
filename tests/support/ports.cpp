#include "ports.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cstdint>
#include <poll.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace ctr::test {

HeldPort hold_port(const std::string& address) {
    HeldPort held;
    held.fd = sys::UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    REQUIRE(::inet_pton(AF_INET, address.c_str(), &a.sin_addr) == 1);
    socklen_t len = sizeof a;
    REQUIRE(held.fd.valid());
    REQUIRE(::bind(held.fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(held.fd.get(), 1) == 0);
    REQUIRE(::getsockname(held.fd.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
    held.port = ntohs(a.sin_port);
    return held;
}

int free_port() { return hold_port().port; }

std::string accept_line(const HeldPort& held, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    auto left = [&] {
        return static_cast<int>(std::max<int64_t>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count()));
    };
    pollfd p{held.fd.get(), POLLIN, 0};
    if (::poll(&p, 1, left()) != 1) return "";
    sys::UniqueFd conn(::accept4(held.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn.valid()) return "";
    std::string line;
    char c;
    pollfd q{conn.get(), POLLIN, 0};
    while (::poll(&q, 1, left()) == 1 && ::read(conn.get(), &c, 1) == 1 && c != '\n') line += c;
    return line;
}

}  // namespace ctr::test
