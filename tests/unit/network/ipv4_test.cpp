// network-vmnet's address arithmetic and its state's allocation rules.
#include "ipv4.hpp"
#include "state.hpp"

#include <doctest/doctest.h>

using namespace ctr::net;

TEST_CASE("subnets parse strictly and name the field in errors") {
    auto s = parse_subnet("10.88.0.0/24", "subnet");
    REQUIRE(s);
    CHECK(s->str() == "10.88.0.0/24");
    CHECK(s->broadcast().str() == "10.88.0.255");
    CHECK(s->host(1).str() == "10.88.0.1");
    CHECK(s->size() == 256);
    for (const char* bad : {"10.0.0.0/33", "10.0.0.0", "10.0.0.0/", "10.0.0/8", "banana", "10.0.0.0/2x", "256.0.0.0/8"}) {
        CAPTURE(bad);
        auto r = parse_subnet(bad, "subnet");
        REQUIRE(!r);
        CHECK(r.error().status == CTR_E_INVALID_ARGUMENT);
        CHECK(r.error().message.find(std::string("subnet: invalid subnet \"") + bad + "\"") == 0);
    }
    auto host_bits = parse_subnet("10.0.0.1/24", "subnet");
    REQUIRE(!host_bits);
    CHECK(host_bits.error().message.find("host bits set (did you mean 10.0.0.0/24?)") != std::string::npos);
    CHECK(!parse_ipv4("1.2.3", "ip"));
    CHECK(parse_ipv4("1.2.3.4", "ip")->value == 0x01020304u);
}

TEST_CASE("overlap works both ways and across prefix lengths") {
    auto a = *parse_subnet("10.88.0.0/16", "a");
    auto b = *parse_subnet("10.88.7.0/24", "b");
    auto c = *parse_subnet("10.89.0.0/24", "c");
    CHECK(a.overlaps(b));
    CHECK(b.overlaps(a));
    CHECK(!a.overlaps(c));
    CHECK(!b.overlaps(c));
    CHECK(a.contains(*parse_ipv4("10.88.200.1", "ip")));
    CHECK(!b.contains(*parse_ipv4("10.88.8.1", "ip")));
}

TEST_CASE("allocation takes the lowest free host and skips the gateway; a full subnet has none") {
    NetworkState n;
    n.subnet = *parse_subnet("10.1.0.0/29", "subnet");
    n.gateway = n.subnet.host(1);
    std::vector<std::string> got;
    for (int i = 0; i < 5; ++i) {
        auto ip = n.free_ip();
        REQUIRE(ip);
        got.push_back(ip->str());
        n.endpoints.push_back({"c" + std::to_string(i), "eth0", "v", *ip, "", {}, {}});
    }
    CHECK(got == std::vector<std::string>{"10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5", "10.1.0.6"});
    CHECK(!n.free_ip());  // .7 is the broadcast address
    n.endpoints.erase(n.endpoints.begin() + 1);
    CHECK(n.free_ip()->str() == "10.1.0.3");
}

TEST_CASE("network state round-trips through json") {
    NetworkState n;
    n.name = "front";
    n.subnet = *parse_subnet("10.2.0.0/24", "subnet");
    n.gateway = n.subnet.host(1);
    n.bridge = "ctrbr0001";
    n.internal = true;
    n.endpoints.push_back({"abc", "eth0", "ctrv1", n.subnet.host(2), "02:00:00:00:00:01", {"web", "www"},
                           {{"127.0.0.1", 8080, 80, "tcp"}}});
    auto back = NetworkState::from_json(n.to_json());
    REQUIRE(back);
    CHECK(back->to_json() == n.to_json());
    CHECK(back->endpoint("abc")->ports[0].host_port == 8080);
    CHECK(!NetworkState::from_json(nlohmann::json{{"name", "x"}}));
}
