#include "ports.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace ctr::test {

HeldPort hold_port() {
    HeldPort held;
    held.fd = sys::UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(held.fd.valid());
    REQUIRE(::bind(held.fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(held.fd.get(), 1) == 0);
    REQUIRE(::getsockname(held.fd.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
    held.port = ntohs(a.sin_port);
    return held;
}

int free_port() { return hold_port().port; }

}  // namespace ctr::test
