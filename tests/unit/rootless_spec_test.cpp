// What a rootless daemon changes in a container's spec (services/tuning):
// limits refused by flag without a delegated cgroup, and mount options that
// name ids a single-id namespace lacks.
#include "services/tuning.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using nlohmann::json;

TEST_CASE("single id: mount options naming another id go; uid=0 and gid=0 stay") {
    json spec = {{"mounts", json::array({
                                json{{"destination", "/dev/pts"}, {"type", "devpts"}, {"options", {"nosuid", "gid=5", "mode=620"}}},
                                json{{"destination", "/data"}, {"type", "tmpfs"}, {"options", {"uid=1000", "gid=0", "size=1m"}}},
                                json{{"destination", "/proc"}, {"type", "proc"}},
                            })}};
    ctr::services::drop_unmapped_mount_ids(spec);
    CHECK(spec["mounts"][0]["options"] == json({"nosuid", "mode=620"}));
    CHECK(spec["mounts"][1]["options"] == json({"gid=0", "size=1m"}));
    CHECK(!spec["mounts"][2].contains("options"));
}

TEST_CASE("no delegated cgroup: a limit is refused by its flag; device rules alone pass") {
    json limited = {{"linux", {{"resources", {{"memory", {{"limit", 33554432}}}, {"devices", json::array({json{{"allow", false}}})}}}}}};
    auto st = ctr::services::check_no_limits(limited);
    REQUIRE(!st);
    CHECK(st.error().message.find("--memory") == 0);
    json devices_only = {{"linux", {{"resources", {{"devices", json::array({json{{"allow", false}}})}}}}}};
    CHECK(ctr::services::check_no_limits(devices_only));
}
