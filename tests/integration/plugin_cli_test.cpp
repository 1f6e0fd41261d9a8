// `container system plugin ls|inspect` and CLI usage errors, run as a user
// would: the built binary, a throwaway --root, real plugins and fixtures.
#include "tests/support/run.hpp"

#include <doctest/doctest.h>

#include <map>

using ctr::test::run;
using ctr::test::ScratchDir;
using nlohmann::json;

namespace {
std::map<std::string, json> by_name(const json& arr) {
    std::map<std::string, json> m;
    for (const auto& e : arr) m[e["path"].get<std::string>().substr(e["path"].get<std::string>().rfind('/') + 1)] = e;
    return m;
}
}  // namespace

TEST_CASE("plugin ls on a fresh build lists the four plugins, loaded and negotiated") {
    ScratchDir root;
    auto r = run("host/container", {"--root", root.path().string(), "system", "plugin", "ls", "--format", "json"});
    REQUIRE(r.code == 0);
    auto arr = json::parse(r.out);
    auto m = by_name(arr);
    for (const char* folder : {"runtime-linux", "network-vmnet", "image-oci", "runtime-example"}) {
        CAPTURE(folder);
        REQUIRE(m.count(folder) == 1);
        CHECK(m[folder]["state"] == "loaded");
        CHECK(m[folder]["abi"] == "1." + std::to_string(CTR_ABI_MINOR));  // the minor each one chose: ours
        CHECK(m[folder]["reason"] == "");
        for (const char* key : {"name", "kind", "version", "abi", "path", "state", "reason"}) CHECK(m[folder].contains(key));
    }
    CHECK(m["runtime-example"]["name"] == "example");
    CHECK(m["runtime-linux"]["kind"] == "runtime");
    CHECK(m["network-vmnet"]["kind"] == "network");
    CHECK(m["image-oci"]["kind"] == "image");

    auto table = run("host/container", {"--root", root.path().string(), "system", "plugin", "ls"});
    REQUIRE(table.code == 0);
    CHECK(table.out.rfind("NAME", 0) == 0);
    CHECK(table.out.find("runtime-linux") != std::string::npos);

    auto quiet = run("host/container", {"--root", root.path().string(), "system", "plugin", "ls", "-q"});
    CHECK(quiet.out.find("example\n") != std::string::npos);
    CHECK(quiet.out.find("NAME") == std::string::npos);
}

TEST_CASE("bad plugins each get a one-line reason; the host keeps serving the good ones") {
    ScratchDir root;
    std::string fixtures = ctr::test::env_or_empty("CTR_FIXTURE_PLUGINS");
    auto r = run("host/container", {"--root", root.path().string(), "system", "plugin", "ls", "--format", "json"},
                 {"CONTAINER_PLUGIN_PATH=" + fixtures});
    REQUIRE(r.code == 0);
    auto m = by_name(json::parse(r.out));
    CHECK(m["runtime-linux"]["state"] == "loaded");
    CHECK(m.count("runtime-example") == 0);  // its folder is not on this path: not found
    CHECK(m["crashes"]["state"] == "failed");
    CHECK(m["null-slot"]["state"] == "failed");
    CHECK(m["null-slot"]["reason"] == "runtime table slot 3 is null (every v1 slot is required)");
    CHECK(m["crashes"]["reason"].get<std::string>().find("init crashed") != std::string::npos);
    CHECK(m["declines"]["state"] == "skipped");
    CHECK(m["bad-toml"]["reason"].get<std::string>().find("config.toml:4:") != std::string::npos);
    CHECK(m["twin-b"]["state"] == "duplicate");

    // The table shows the same, one line per plugin.
    auto t = run("host/container", {"--root", root.path().string(), "system", "plugin", "ls"},
                 {"CONTAINER_PLUGIN_PATH=" + fixtures});
    REQUIRE(t.code == 0);
    size_t lines = std::count(t.out.begin(), t.out.end(), '\n');
    CHECK(lines == m.size() + 1);
}

TEST_CASE("plugin inspect shows details, and an unknown name is an engine error") {
    ScratchDir root;
    auto r = run("host/container", {"--root", root.path().string(), "system", "plugin", "inspect", "runtime-linux"});
    REQUIRE(r.code == 0);
    auto j = json::parse(r.out);
    REQUIRE(j.size() == 1);
    CHECK(j[0]["settings"]["oci_runtime"] == "crun");
    CHECK(j[0]["library"].get<std::string>().find("libruntime-linux.so") != std::string::npos);

    auto missing = run("host/container", {"--root", root.path().string(), "system", "plugin", "inspect", "nope"});
    CHECK(missing.code == 125);
    CHECK(missing.err == "container: no plugin named \"nope\"\n");
}

TEST_CASE("unknown commands and flags are usage errors with exit 125") {
    auto cmd = run("host/container", {"frobnicate"});
    CHECK(cmd.code == 125);
    CHECK(cmd.err.find("container:") == 0);
    auto flag = run("host/container", {"system", "plugin", "ls", "--bogus"});
    CHECK(flag.code == 125);
    auto format = run("host/container", {"system", "plugin", "ls", "--format", "yaml"});
    CHECK(format.code == 125);
    auto help = run("host/container", {"--help"});
    CHECK(help.code == 0);
    CHECK(help.out.find("system") != std::string::npos);
}
