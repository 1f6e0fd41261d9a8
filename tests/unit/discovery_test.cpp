#include <ctr/pluginhost/discovery.hpp>

#include <ctr/sys/files.hpp>
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

using namespace ctr::pluginhost;

TEST_CASE("the search path is build tree, install dir, etc dir, then CONTAINER_PLUGIN_PATH") {
    SearchPathInputs in;
    in.build_dirs = {"/b1", "/b2"};
    in.running_from_build_tree = true;
    in.install_dir = "/usr/lib/container/plugins";
    in.etc_dir = "/root/etc/container/plugins";
    in.env_path = "/e1::/e2";
    auto p = search_path(in);
    std::vector<std::filesystem::path> want = {"/b1", "/b2", "/usr/lib/container/plugins",
                                               "/root/etc/container/plugins", "/e1", "/e2"};
    CHECK(p == want);

    in.running_from_build_tree = false;  // an installed binary ignores the build tree
    p = search_path(in);
    CHECK(p.front() == "/usr/lib/container/plugins");
    CHECK(p.size() == 4);
}

TEST_CASE("scan_dirs finds plugin folders in order and skips what is not one") {
    ctr::test::ScratchDir d;
    auto a = d.path() / "a", b = d.path() / "b";
    for (auto name : {"zeta", "alpha"}) {
        REQUIRE(ctr::sys::make_dirs(a / name));
        REQUIRE(ctr::sys::write_file_atomic(a / name / "config.toml",
                                            std::string("name = \"") + name +
                                                "\"\nkind = \"image\"\nabi = \"1.0\"\nlibrary = \"l.so\"\nversion = \"1\"\n"));
    }
    REQUIRE(ctr::sys::make_dirs(a / "not-a-plugin"));  // no config.toml
    REQUIRE(ctr::sys::make_dirs(b / "broken"));
    REQUIRE(ctr::sys::write_file_atomic(b / "broken" / "config.toml", "name = \n"));

    auto found = scan_dirs({a, d.path() / "missing", b});
    REQUIRE(found.size() == 3);
    CHECK(found[0].dir.filename() == "alpha");
    CHECK(found[1].dir.filename() == "zeta");
    CHECK(found[0].parsed.has_value());
    CHECK(found[2].dir.filename() == "broken");
    CHECK_FALSE(found[2].parsed.has_value());
}
