#include "netns_link.hpp"

#include <ctr/sys/process.hpp>

#include <doctest/doctest.h>

#include <random>
#include <unistd.h>

namespace ctr::test {

namespace {

void ip(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/sbin/ip"};
    argv.insert(argv.end(), args.begin(), args.end());
    sys::RunOptions o;
    o.timeout_ms = 10000;
    o.capture_stderr = true;
    auto r = sys::run_capture(argv, o);
    REQUIRE(r.has_value());
    INFO(r->err);
    REQUIRE(r->status.success());
}

}  // namespace

NetnsLink::NetnsLink() {
    std::random_device rd;
    unsigned tag = rd() % 60000;
    std::string id = std::to_string(::getpid() % 10000) + "-" + std::to_string(tag);
    name_ = "ctrt-" + id;
    host_link_ = "ctrt" + std::to_string(tag);
    // 10.253.0.0/16, away from the daemons' pools: /30 number `tag % 16384`.
    unsigned n = tag % 16384;
    std::string base = "10.253." + std::to_string(n / 64) + ".";
    unsigned host_octet = (n % 64) * 4 + 1;
    inside_ = base + std::to_string(host_octet + 1);
    outside_ = base + std::to_string(host_octet);
    ip({"netns", "add", name_});
    ip({"link", "add", host_link_, "type", "veth", "peer", "name", "eth0", "netns", name_});
    ip({"addr", "add", outside_ + "/30", "dev", host_link_});
    ip({"link", "set", host_link_, "up"});
    ip({"-n", name_, "addr", "add", inside_ + "/30", "dev", "eth0"});
    ip({"-n", name_, "link", "set", "eth0", "up"});
    ip({"-n", name_, "link", "set", "lo", "up"});
}

NetnsLink::~NetnsLink() {
    sys::RunOptions o;
    o.timeout_ms = 10000;
    (void)sys::run_capture({"/usr/sbin/ip", "netns", "del", name_}, o);  // the veth pair goes with it
}

}  // namespace ctr::test
