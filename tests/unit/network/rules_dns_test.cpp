// The nftables script and the DNS answers, from state alone.
#include "dns_server.hpp"
#include "nft_rules.hpp"

#include <doctest/doctest.h>

using namespace ctr::net;

namespace {

NetworkState network(const std::string& name, const std::string& subnet, const std::string& bridge, bool internal) {
    NetworkState n;
    n.name = name;
    n.subnet = *parse_subnet(subnet, "subnet");
    n.gateway = n.subnet.host(1);
    n.bridge = bridge;
    n.internal = internal;
    return n;
}

// A query for `name` of type `qtype`, id 0x1234, RD set.
std::string query(const std::string& name, uint16_t qtype) {
    std::string q = {'\x12', '\x34', '\x01', '\x00', 0, 1, 0, 0, 0, 0, 0, 0};
    size_t start = 0;
    while (start <= name.size()) {
        size_t dot = name.find('.', start);
        if (dot == std::string::npos) dot = name.size();
        q.push_back(static_cast<char>(dot - start));
        q += name.substr(start, dot - start);
        start = dot + 1;
    }
    q.push_back(0);
    q.push_back(static_cast<char>(qtype >> 8));
    q.push_back(static_cast<char>(qtype & 0xff));
    q.push_back(0);
    q.push_back(1);
    return q;
}

int rcode(const std::string& reply) { return reply[3] & 0x0f; }
int answers(const std::string& reply) { return (static_cast<uint8_t>(reply[6]) << 8) | static_cast<uint8_t>(reply[7]); }

}  // namespace

TEST_CASE("the ruleset replaces our table only, publishes, masquerades and isolates") {
    std::map<std::string, NetworkState> nets;
    nets["a"] = network("a", "10.1.0.0/24", "ctrbrA", false);
    nets["b"] = network("b", "10.2.0.0/24", "ctrbrB", false);
    nets["c"] = network("c", "10.3.0.0/24", "ctrbrC", true);
    nets["a"].endpoints.push_back({"x", "eth0", "ctrv1", *parse_ipv4("10.1.0.2", "ip"), "", {}, {{"127.0.0.1", 8080, 80, "tcp"}, {"", 5353, 53, "udp"}}});
    std::string s = render_ruleset("container_test", nets);
    CHECK(s.find("add table ip container_test\ndelete table ip container_test\n") == 0);
    CHECK(s.find("table ip container_test {") != std::string::npos);
    CHECK(s.find("ip daddr 127.0.0.1 tcp dport 8080 dnat to 10.1.0.2:80") != std::string::npos);
    CHECK(s.find("    udp dport 5353 dnat to 10.1.0.2:53") != std::string::npos);
    CHECK(s.find("ip saddr 10.1.0.0/24 oifname != \"ctrbrA\" masquerade") != std::string::npos);
    CHECK(s.find("ip saddr 10.3.0.0/24") == std::string::npos);  // internal: no way out
    CHECK(s.find("iifname \"ctrbrA\" oifname { \"ctrbrB\", \"ctrbrC\" } reject with icmp type admin-prohibited") != std::string::npos);
    CHECK(s.find("iifname \"ctrbrC\" oifname != \"ctrbrC\" reject") != std::string::npos);
    // Nothing that names another table, and nothing flushed.
    CHECK(s.find("flush") == std::string::npos);
    CHECK(s.find("table ip nat") == std::string::npos);
    // No networks: the table goes.
    CHECK(render_ruleset("container_test", {}) == "add table ip container_test\ndelete table ip container_test\n");
}

TEST_CASE("dns answers names of the network, NXDOMAIN for unknown single names, and leaves the rest to upstream") {
    Zone z{"front", *parse_ipv4("10.1.0.1", "ip"), false, {{"web", *parse_ipv4("10.1.0.2", "ip")}}, {}};
    auto a = answer_query(query("WEB", 1), z);
    REQUIRE(a);
    CHECK(a->substr(0, 2) == "\x12\x34");
    CHECK(rcode(*a) == 0);
    CHECK(answers(*a) == 1);
    CHECK(a->substr(a->size() - 4) == std::string("\x0a\x01\x00\x02", 4));
    auto aaaa = answer_query(query("web", 28), z);
    REQUIRE(aaaa);
    CHECK(rcode(*aaaa) == 0);
    CHECK(answers(*aaaa) == 0);
    auto unknown = answer_query(query("nobody", 1), z);
    REQUIRE(unknown);
    CHECK(rcode(*unknown) == 3);
    CHECK(!answer_query(query("example.org", 1), z));  // forwarded
    z.internal = true;
    CHECK(rcode(*answer_query(query("example.org", 1), z)) == 3);  // no way out
    // A client on two networks also sees the other network's names.
    z.more_for_client[parse_ipv4("10.1.0.9", "ip")->value] = {{"db", *parse_ipv4("10.5.0.3", "ip")}};
    CHECK(rcode(*answer_query(query("db", 1), z)) == 3);
    CHECK(answers(*answer_query(query("db", 1), z, *parse_ipv4("10.1.0.9", "ip"))) == 1);
    // Garbage: too short is dropped, a bad name is FORMERR.
    CHECK(!answer_query("abc", z));
    std::string bad = query("web", 1);
    bad[12] = 70;
    CHECK(rcode(*answer_query(bad, z)) == 1);
}
