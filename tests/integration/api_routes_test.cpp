// Every route of docs/api.md, called through the client library against a
// real daemon on a throwaway root.
#include "tests/support/run.hpp"

#include "api/client.hpp"
#include "store/store.hpp"

#include <doctest/doctest.h>

using ctr::test::DaemonRoot;
using nlohmann::json;

namespace {

ctr::api::Client client_of(const DaemonRoot& r) { return ctr::api::Client(r.path() / "run/container/api.sock"); }

// Two container records, written while the daemon is down (until the
// runtime exists, nothing else makes them).
void seed_containers(DaemonRoot& r) {
    std::filesystem::create_directories(r.path() / "var/lib/container");
    auto store = ctr::store::Store::open(r.path() / "var/lib/container/state.db");
    REQUIRE(store.has_value());
    for (auto [id, name, state] : {std::tuple{"aaaa1111bbbb2222", "web", "running"}, {"cccc3333dddd4444", "job", "stopped"}}) {
        ctr::store::ContainerRecord c;
        c.id = id;
        c.name = name;
        c.image = "busybox";
        c.runtime = "runtime-linux";
        c.state = *ctr::store::parse_container_state(state);
        c.created_at = ctr::store::now_unix();
        REQUIRE((*store)->insert_container(c));
    }
}

}  // namespace

TEST_CASE("GET /v1/ping, /v1/system/version, /v1/system/status, /v1/system/properties") {
    DaemonRoot r;
    r.start();
    auto c = client_of(r);
    CHECK((*c.call("GET", "/v1/ping"))["ok"] == true);
    CHECK((*c.call("GET", "/v1/system/version"))["api_version"] == "v1");
    auto st = *c.call("GET", "/v1/system/status");
    CHECK(st["root"] == r.root());
    CHECK(st["pid"] == r.daemon_pid());
    // The plugins in use, where the config leaves the choice to them.
    auto props = *c.call("GET", "/v1/system/properties");
    CHECK(props["container.runtime"] == "runtime-linux");
    CHECK(props["image.plugin"] == "image-oci");
    CHECK(props["network.plugin"] == "network-vmnet");
}

TEST_CASE("GET /v1/system/logs streams, with tail; GET /v1/system/df") {
    DaemonRoot r;
    r.start();
    auto c = client_of(r);
    std::string got;
    REQUIRE(c.stream("/v1/system/logs?tail=1", [&](std::string_view d) {
        got += d;
        return true;
    }));
    CHECK(std::count(got.begin(), got.end(), '\n') == 1);
    auto bad = c.stream("/v1/system/logs?tail=x", [](std::string_view) { return true; });
    REQUIRE_FALSE(bad);
    CAPTURE(bad.error().message);
    CHECK(bad.error().status == CTR_E_INVALID_ARGUMENT);
    auto df = *c.call("GET", "/v1/system/df");
    CHECK(df[0]["type"] == "images");
    CHECK(df[1]["type"] == "containers");
}

TEST_CASE("GET /v1/plugins and /v1/plugins/{name}") {
    DaemonRoot r;
    r.start();
    auto c = client_of(r);
    auto all = *c.call("GET", "/v1/plugins");
    bool found = false;
    for (const auto& p : all) found = found || (p["name"] == "image-oci" && p["state"] == "loaded");
    CHECK(found);
    CHECK((*c.call("GET", "/v1/plugins/network-vmnet"))["kind"] == "network");
    auto missing = c.call("GET", "/v1/plugins/nope");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().status == CTR_E_NOT_FOUND);
}

TEST_CASE("containers found at start: a running one with no shim is stopped, a half-created one is rolled back") {
    DaemonRoot r;
    seed_containers(r);  // "web" running (but no shim exists), "job" stopped
    {
        auto store = ctr::store::Store::open(r.path() / "var/lib/container/state.db");
        ctr::store::ContainerRecord c;
        c.id = "eeee5555ffff6666";
        c.name = "half";
        c.image = c.runtime = "x";
        c.state = ctr::store::ContainerState::creating;
        REQUIRE((*store)->insert_container(c));
    }
    r.start();
    auto c = client_of(r);
    CHECK(c.call("GET", "/v1/containers")->empty());  // nothing runs
    auto all = *c.call("GET", "/v1/containers?all=1");
    REQUIRE(all.size() == 2);
    auto web = *c.call("GET", "/v1/containers/web");
    CHECK(web["state"] == "stopped");
    CHECK(web["exit_code"] == 255);
    CHECK((*c.call("GET", "/v1/containers/cccc"))["name"] == "job");  // a unique id prefix
    CHECK_FALSE(c.call("GET", "/v1/containers/half"));
    auto missing = c.call("GET", "/v1/containers/zzzz");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message == "no such container: zzzz");
    CHECK(r.cli({"system", "logs"}).out.find("rolled back the creation of container half") != std::string::npos);

    auto pruned = *c.call("POST", "/v1/containers/prune");
    CHECK(pruned["removed"].size() == 2);
    CHECK(c.call("GET", "/v1/containers?all=1")->empty());
    auto gone = c.call("DELETE", "/v1/containers/web");
    REQUIRE_FALSE(gone);
    CHECK(gone.error().status == CTR_E_NOT_FOUND);
}

TEST_CASE("GET /v1/images and /v1/networks answer arrays") {
    DaemonRoot r;
    r.start();
    auto c = client_of(r);
    CHECK(c.call("GET", "/v1/images")->is_array());
    CHECK(c.call("GET", "/v1/networks")->is_array());
    CHECK(r.cli({"image", "ls", "--format", "json"}).out == "[]\n");
    CHECK(r.cli({"network", "ls", "-q"}).code == 0);
}

TEST_CASE("volumes: POST, GET list, GET one, DELETE, POST prune, and their errors") {
    DaemonRoot r;
    r.start();
    auto c = client_of(r);
    auto v = c.call("POST", "/v1/volumes", {{"name", "v1"}, {"labels", {{"team", "a"}}}});
    REQUIRE(v.has_value());
    CHECK((*v)["mountpoint"] == (r.path() / "var/lib/container/volumes/v1/_data").string());
    CHECK(std::filesystem::is_directory((*v)["mountpoint"].get<std::string>()));

    auto dup = c.call("POST", "/v1/volumes", {{"name", "v1"}});
    REQUIRE_FALSE(dup);
    CHECK(dup.error().status == CTR_E_ALREADY_EXISTS);
    CHECK(dup.error().message == "volume \"v1\" already exists");
    for (const char* bad : {"../x", "", "a/b", ".hidden"}) {
        auto e = c.call("POST", "/v1/volumes", {{"name", bad}});
        REQUIRE_FALSE(e);
        CHECK(e.error().status == CTR_E_INVALID_ARGUMENT);
        CHECK(e.error().message.find("invalid volume name") == 0);
    }
    auto unknown = c.call("POST", "/v1/volumes", {{"name", "v2"}, {"size", "1g"}});
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().message == "unknown field \"size\"");
    auto opts = c.call("POST", "/v1/volumes", {{"name", "v2"}, {"options", {{"o", "x"}}}});
    REQUIRE_FALSE(opts);

    auto anon = *c.call("POST", "/v1/volumes", json::object());
    CHECK(anon["anonymous"] == true);
    CHECK(anon["name"].get<std::string>().size() == 64);

    CHECK(c.call("GET", "/v1/volumes")->size() == 2);
    auto one = *c.call("GET", "/v1/volumes/v1");
    CHECK(one["labels"]["team"] == "a");
    CHECK(one["used_by"].empty());

    CHECK(c.call("DELETE", "/v1/volumes/v1").has_value());
    CHECK_FALSE(std::filesystem::exists(r.path() / "var/lib/container/volumes/v1"));
    auto gone = c.call("DELETE", "/v1/volumes/v1");
    REQUIRE_FALSE(gone);
    CHECK(gone.error().status == CTR_E_NOT_FOUND);
    CHECK(c.call("DELETE", "/v1/volumes/v1?force=1").has_value());

    auto pruned = *c.call("POST", "/v1/volumes/prune");
    CHECK(pruned["removed"].size() == 1);
    CHECK(c.call("GET", "/v1/volumes")->empty());
}

TEST_CASE("a volume in use by a container cannot be removed or pruned") {
    DaemonRoot r;
    seed_containers(r);
    r.start();
    REQUIRE(r.cli({"volume", "create", "shared"}).code == 0);
    REQUIRE(r.cli({"system", "stop"}).code == 0);
    {
        auto store = ctr::store::Store::open(r.path() / "var/lib/container/state.db");
        REQUIRE(store.has_value());
        auto s = (*store)->db().prepare("INSERT INTO container_volumes (container_id, volume) VALUES ('aaaa1111bbbb2222', 'shared')");
        REQUIRE(s.has_value());
        REQUIRE(s->run());
    }
    auto rm = r.cli({"volume", "rm", "shared"});
    CHECK(rm.code == 125);
    CHECK(rm.err.find("volume \"shared\" is in use by container(s) aaaa1111bbbb") != std::string::npos);
    CHECK(r.cli({"volume", "prune"}).out.find("shared") == std::string::npos);
    CHECK(r.cli({"volume", "ls", "-q"}).out == "shared\n");
}

TEST_CASE("unknown routes, wrong methods and bad bodies are clean errors; the daemon keeps serving") {
    DaemonRoot r;
    r.start();
    auto c = client_of(r);
    auto nope = c.call("GET", "/v1/nothing/here");
    REQUIRE_FALSE(nope);
    CHECK(nope.error().status == CTR_E_NOT_FOUND);
    CHECK(nope.error().message == "no route GET /v1/nothing/here");
    auto method = c.call("PUT", "/v1/volumes");
    REQUIRE_FALSE(method);
    CHECK(method.error().status == CTR_E_UNIMPLEMENTED);
    auto body = c.call("POST", "/v1/volumes", json("not an object"));
    REQUIRE_FALSE(body);
    CHECK(body.error().status == CTR_E_INVALID_ARGUMENT);
    CHECK(c.call("GET", "/v1/ping").has_value());
}

TEST_CASE("POST /v1/system/stop stops the server") {
    DaemonRoot r;
    r.start();
    auto c = client_of(r);
    CHECK((*c.call("POST", "/v1/system/stop"))["stopping"] == true);
    for (int i = 0; i < 500 && std::filesystem::exists(r.path() / "run/container/api.sock"); ++i) usleep(10000);
    CHECK_FALSE(std::filesystem::exists(r.path() / "run/container/api.sock"));
    CHECK_FALSE(c.ping());
}
