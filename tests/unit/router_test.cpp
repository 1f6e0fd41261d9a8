#include "apiserver/router.hpp"

#include <doctest/doctest.h>

using namespace ctr::apiserver;

TEST_CASE("routes match patterns, capture parameters and tell 404 from 405") {
    Router r;
    r.add("GET", "/v1/volumes/{name}", [](const Request& req) { return json_reply(nlohmann::json{{"name", req.param("name")}}); });
    r.add("GET", "/v1/volumes", [](const Request&) { return json_reply(nlohmann::json::array()); });
    Request a{"GET", "/v1/volumes/my%20vol", {}, {}, nullptr};
    auto ra = r.dispatch(a);
    REQUIRE(ra.has_value());
    CHECK(ra->body["name"] == "my vol");
    Request b{"GET", "/v1/volumes/", {}, {}, nullptr};
    CHECK(r.dispatch(b)->body.is_array());
    Request c{"DELETE", "/v1/volumes/x", {}, {}, nullptr};
    auto rc = r.dispatch(c);
    REQUIRE_FALSE(rc);
    CHECK(rc.error().status == CTR_E_UNIMPLEMENTED);
    Request d{"GET", "/v1/other", {}, {}, nullptr};
    CHECK(r.dispatch(d).error().status == CTR_E_NOT_FOUND);
    CHECK(r.routes() == std::vector<std::string>{"GET /v1/volumes/{name}", "GET /v1/volumes"});
}

TEST_CASE("query strings") {
    auto q = parse_query("all=1&name=a%2Fb&flag&x=y+z");
    CHECK(q["all"] == "1");
    CHECK(q["name"] == "a/b");
    CHECK(q["flag"] == "");
    CHECK(q["x"] == "y z");
    Request r{"GET", "/", q, {}, nullptr};
    CHECK(r.flag("all"));
    CHECK_FALSE(r.flag("flag"));
}

TEST_CASE("a {name*} segment takes the slashes of an image name; streaming and handover routes are known before their body is read") {
    Router r;
    r.add("GET", "/images/json", [](const Request&) { return json_reply(nlohmann::json::array()); });
    r.add("GET", "/images/{name*}/json", [](const Request& req) { return json_reply(nlohmann::json{{"name", req.param("name")}}); });
    r.add_streaming("PUT", "/containers/{id}/archive", [](const Request&) { return json_reply(nlohmann::json::object()); });
    Request a{"GET", "/images/127.0.0.1:5000/test/busybox:1/json", {}, {}, nullptr};
    CHECK(r.dispatch(a)->body["name"] == "127.0.0.1:5000/test/busybox:1");
    Request b{"GET", "/images/alpine/json", {}, {}, nullptr};
    CHECK(r.dispatch(b)->body["name"] == "alpine");
    Request list{"GET", "/images/json", {}, {}, nullptr};
    CHECK(r.dispatch(list)->body.is_array());
    Request put{"PUT", "/containers/c1/archive", {}, {}, nullptr};
    CHECK(r.streams_body(put));
    CHECK_FALSE(r.streams_body(a));
    // A route that hands its connection over says so; the others do not.
    r.add_handover("POST", "/exec/{id}/start", [](const Request&) { return json_reply(nlohmann::json::object()); });
    Request start{"POST", "/exec/e1/start", {}, {}, nullptr};
    CHECK(r.hands_over(start));
    CHECK_FALSE(r.streams_body(start));
    CHECK_FALSE(r.hands_over(put));
    Request other{"POST", "/exec/e1/resize", {}, {}, nullptr};
    CHECK_FALSE(r.hands_over(other));
}
