// network-vmnet's Networks without the daemon: tap endpoints for VMs, and
// allocation limits, on real links (root only; skipped otherwise).
#include "networks.hpp"
#include "tests/support/tempdir.hpp"

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <random>

using ctr::net::Networks;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string master_of(const std::string& link) {
    std::error_code ec;
    auto target = fs::read_symlink("/sys/class/net/" + link + "/master", ec);
    return ec ? "" : target.filename().string();
}

}  // namespace

TEST_CASE("a VM's tap endpoint sits on the bridge with an address and a MAC; detach and remove leave nothing" * CTR_NEEDS_ROOT) {
    ctr::test::ScratchDir dir;
    std::vector<std::string> warnings;
    Networks nets(dir.path() / "state", [&](const std::string& w) { warnings.push_back(w); });
    std::string tap = "ctrtap" + std::to_string(std::random_device{}() % 100000);
    auto made = nets.create({{"name", "vmnet"}, {"subnet", "10.252.200.0/30"}});
    REQUIRE_MESSAGE(made, (made ? "" : made.error().message));
    std::string bridge = (*made)["bridge"];

    auto both = nets.attach({{"network", "vmnet"}, {"container_id", "vm0"}, {"tap", tap}, {"netns", "/proc/self/ns/net"}});
    REQUIRE(!both);
    CHECK(both.error().status == CTR_E_INVALID_ARGUMENT);

    auto got = nets.attach({{"network", "vmnet"}, {"container_id", "vm1"}, {"tap", tap}});
    REQUIRE_MESSAGE(got, (got ? "" : got.error().message));
    CHECK((*got)["ips"][0]["address"] == "10.252.200.2/30");
    CHECK((*got)["ips"][0]["gateway"] == "10.252.200.1");
    std::string mac = (*got)["interfaces"][0]["mac"];
    CHECK(mac.size() == 17);
    CHECK(mac.rfind("02:", 0) == 0);
    CHECK(master_of(tap) == bridge);

    // A /30 has one address for containers: the next attach is refused.
    auto full = nets.attach({{"network", "vmnet"}, {"container_id", "vm2"}, {"tap", tap + "b"}});
    REQUIRE(!full);
    CHECK(full.error().status == CTR_E_RESOURCE_EXHAUSTED);
    CHECK(!fs::exists("/sys/class/net/" + tap + "b"));

    CHECK(nets.detach({{"network", "vmnet"}, {"container_id", "vm1"}}));
    CHECK(!fs::exists("/sys/class/net/" + tap));
    CHECK(nets.detach({{"network", "vmnet"}, {"container_id", "vm1"}}));  // idempotent
    CHECK(nets.remove({{"name", "vmnet"}}));
    CHECK(!fs::exists("/sys/class/net/" + bridge));
    CHECK(nets.list()->empty());
    CHECK(fs::is_empty(dir.path() / "state/networks"));
}
