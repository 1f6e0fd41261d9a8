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
