// What `run` says about networking, checked before anything is made.
#include "services/network_options.hpp"
#include "services/names.hpp"

#include <doctest/doctest.h>

using namespace ctr::services;
using nlohmann::json;

TEST_CASE("publish specs expand ranges and reject bad ports with the spec in the message") {
    auto one = parse_publish("127.0.0.1:8080:80");
    REQUIRE(one);
    REQUIRE(one->size() == 1);
    CHECK((*one)[0].host_ip == "127.0.0.1");
    CHECK((*one)[0].host_port == 8080);
    CHECK((*one)[0].container_port == 80);
    CHECK((*one)[0].protocol == "tcp");
    auto range = parse_publish("9000-9002:7000-7002/udp");
    REQUIRE(range);
    REQUIRE(range->size() == 3);
    CHECK((*range)[2].host_port == 9002);
    CHECK((*range)[2].container_port == 7002);
    CHECK((*range)[2].protocol == "udp");
    CHECK((*range)[0].host_ip.empty());
    CHECK(parse_publish("0.0.0.0:80:80")->front().host_ip.empty());
    auto any = parse_publish("127.0.0.1::8080-8081/udp");
    REQUIRE(any);
    REQUIRE(any->size() == 2);
    CHECK((*any)[0].host_port == 0);  // the plugin picks a free one
    CHECK((*any)[1].container_port == 8081);
    CHECK((*any)[0].host_ip == "127.0.0.1");
    CHECK(parse_publish("80")->front().host_port == 0);
    for (const char* bad : {"0:80", "80:0", "65536:80", "8000-8001:80", "80:80/sctp", "x:80", "10.0.0.300:80:80", "90-80:90-80"}) {
        CAPTURE(bad);
        auto r = parse_publish(bad);
        REQUIRE(!r);
        CHECK(r.error().message.find(std::string("--publish \"") + bad + "\"") == 0);
    }
}

TEST_CASE("network options agree with one another") {
    auto ok = NetworkOptions::from_json({{"networks", {"a", "b"}}, {"ip", "10.0.0.5"}, {"publish", {"80:80"}}});
    REQUIRE(ok);
    CHECK(ok->mode == NetworkOptions::Mode::bridge);
    CHECK(ok->networks == std::vector<std::string>{"a", "b"});
    CHECK(NetworkOptions::from_json({{"networks", {"none"}}})->mode == NetworkOptions::Mode::none);
    struct Bad {
        json body;
        std::string message;
    };
    for (const auto& b : {Bad{{{"networks", {"none", "a"}}}, "cannot be combined"}, Bad{{{"networks", {"a", "a"}}}, "given twice"},
                          Bad{{{"networks", {"host"}}, {"publish", {"80:80"}}}, "not with --network host"},
                          Bad{{{"networks", {"none"}}, {"ip", "10.0.0.2"}}, "not with --network none"},
                          Bad{{{"ip", "10.0.0"}}, "--ip \"10.0.0\""}, Bad{{{"mac_address", "zz"}}, "--mac-address \"zz\""},
                          Bad{{{"dns", {"resolver"}}}, "--dns \"resolver\""}, Bad{{{"add_hosts", {"justname"}}}, "--add-host \"justname\""},
                          Bad{{{"networks", {"bad/name"}}}, "invalid network name"}}) {
        CAPTURE(b.message);
        auto r = NetworkOptions::from_json(b.body);
        REQUIRE(!r);
        CHECK(r.error().message.find(b.message) != std::string::npos);
    }
}

TEST_CASE("hosts and resolv.conf say what the container was given") {
    CHECK(render_hosts("box", "web", "10.0.0.2", {{"db", "10.0.0.9"}}) ==
          "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.0.0.2\tbox web\n10.0.0.9\tdb\n");
    CHECK(render_resolv_conf({"10.0.0.1"}, {"a.test", "b.test"}, {"ndots:2"}) ==
          "nameserver 10.0.0.1\nsearch a.test b.test\noptions ndots:2\n");
    auto gw = parse_add_host("gw:host-gateway");
    REQUIRE(gw);
    CHECK(gw->ip == "host-gateway");
    CHECK(parse_add_host("v6=::1")->ip == "::1");
}

TEST_CASE("object names: one rule for containers, networks and volumes") {
    using ctr::services::check_name;
    CHECK(check_name("container", "web-1.a_b"));
    CHECK(check_name("container", std::string(63, 'a')));
    CHECK_FALSE(check_name("container", std::string(64, 'a')));
    CHECK(check_name("volume", std::string(200, 'v'), ctr::services::kMaxVolumeName));
    for (const char* bad : {"", "-x", "_x", ".x", "a/b", "a b", "a:b"}) {
        CAPTURE(bad);
        auto st = check_name("network", bad);
        REQUIRE_FALSE(st);
        CHECK(st.error().status == CTR_E_INVALID_ARGUMENT);
        CHECK(st.error().message == std::string("invalid network name \"") + bad +
                                        "\": want [A-Za-z0-9][A-Za-z0-9_.-]*, at most 63 characters");
    }
}
