#include "overlay_mount.hpp"

#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

using namespace image_oci;

TEST_CASE("overlay setting: auto when absent, the three names, anything else refused by name") {
    CHECK(*overlay_driver(ctr::sdk::json::object()) == OverlayDriver::automatic);
    CHECK(*overlay_driver({{"overlay", "auto"}}) == OverlayDriver::automatic);
    CHECK(*overlay_driver({{"overlay", "kernel"}}) == OverlayDriver::kernel);
    CHECK(*overlay_driver({{"overlay", "fuse"}}) == OverlayDriver::fuse);
    auto bad = overlay_driver({{"overlay", "fusion"}});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().status == CTR_E_INVALID_ARGUMENT);
    CHECK(bad.error().message.find("settings.overlay") != std::string::npos);
    CHECK(bad.error().message.find("\"fusion\"") != std::string::npos);
}

// The kernel reads a page of mount options: more layers than fit are
// refused before any mount is tried, with their count.
TEST_CASE("an image with more layers than one overlay mount takes is refused with the count") {
    ctr::test::ScratchDir d;
    OverlayLayers l;
    for (int i = 0; i < 200; ++i) l.lowers.push_back(d.path() / ("layers/sha256-" + std::string(64, 'a') + std::to_string(i)));
    l.upper = d.path() / "upper";
    l.work = d.path() / "work";
    auto r = mount_overlay(l, d.path() / "rootfs", OverlayDriver::kernel);
    REQUIRE_FALSE(r);
    CHECK(r.error().status == CTR_E_UNSUPPORTED);
    CHECK(r.error().message.find("200 layers") != std::string::npos);
}
