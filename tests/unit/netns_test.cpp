#include <ctr/sys/netns.hpp>

#include <doctest/doctest.h>

TEST_CASE("net_dev_totals adds every interface's RX and TX bytes of a /proc/net/dev text") {
    const std::string text =
        "Inter-|   Receive                                                |  Transmit\n"
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
        "    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0\n"
        "  eth0:    1500      10    0    0    0     0          0         0      700       5    0    0    0     0       0          0\n";
    auto t = ctr::sys::net_dev_totals(text);
    CHECK(t.rx_bytes == 1600);
    CHECK(t.tx_bytes == 800);
    CHECK(ctr::sys::net_dev_totals("").rx_bytes == 0);
    CHECK(ctr::sys::net_dev_totals("eth0: 1 2 3\n").tx_bytes == 0);  // too short a line counts nothing
}
