// --mount, Docker's syntax, into -v and --tmpfs specs.
#include "services/spec.hpp"
#include "services/mount_targets.hpp"
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

using namespace ctr::services;

TEST_CASE("--mount: bind, volume (named and anonymous) and tmpfs, with readonly") {
    auto bind = parse_mount("type=bind,source=/srv/data,target=/data,readonly");
    REQUIRE(bind);
    auto& v = std::get<VolumeSpec>(*bind);
    CHECK(v.kind == VolumeSpec::Kind::bind);
    CHECK(v.source == "/srv/data");
    CHECK(v.destination == "/data");
    CHECK(v.read_only);
    auto named = parse_mount("src=cache,dst=/cache");  // type defaults to volume
    REQUIRE(named);
    CHECK(std::get<VolumeSpec>(*named).kind == VolumeSpec::Kind::named);
    CHECK(!std::get<VolumeSpec>(*named).read_only);
    auto anon = parse_mount("type=volume,target=/scratch,ro=false");
    REQUIRE(anon);
    CHECK(std::get<VolumeSpec>(*anon).kind == VolumeSpec::Kind::anonymous);
    auto tmp = parse_mount("type=tmpfs,target=/run/x,tmpfs-size=1048576,tmpfs-mode=1700");
    REQUIRE(tmp);
    CHECK(std::get<std::string>(*tmp) == "/run/x:size=1048576,mode=1700");
}

TEST_CASE("--mount: bad specs name the spec and the problem") {
    struct Bad {
        const char* spec;
        const char* message;
    };
    for (const auto& b : {Bad{"type=bind,source=/a", "target is required"}, Bad{"type=bind,source=rel,target=/b", "absolute source"},
                          Bad{"type=volume,source=/abs,target=/b", "type=bind for a host path"},
                          Bad{"type=nfs,target=/b", "type must be bind, volume or tmpfs"},
                          Bad{"type=tmpfs,target=/t,source=x", "a tmpfs has no source"},
                          Bad{"type=tmpfs,target=/t,tmpfs-size=1g", "tmpfs-size is a number"},
                          Bad{"type=bind,source=/a,target=/b,tmpfs-size=1", "are for type=tmpfs"},
                          Bad{"type=bind,source=/a,target=/b,bind-propagation=shared", "unknown key \"bind-propagation\""},
                          Bad{"type=bind,source=/a,target=/proc", "cannot mount over /proc"},
                          Bad{"type=bind,source=/a,target=/b,readonly=maybe", "readonly takes true or false"}}) {
        CAPTURE(b.spec);
        auto r = parse_mount(b.spec);
        REQUIRE(!r);
        CHECK(r.error().message.find(std::string("--mount \"") + b.spec + "\"") == 0);
        CHECK(r.error().message.find(b.message) != std::string::npos);
    }
}

TEST_CASE("mount destinations resolve through the image's symlinks inside its root, and none may land on /proc, /sys or /dev") {
    ctr::test::ScratchDir root;
    namespace fs = std::filesystem;
    fs::create_directories(root.path() / "dev");
    fs::create_directories(root.path() / "srv/real");
    fs::create_symlink("/dev", root.path() / "data");             // absolute: re-rooted
    fs::create_symlink("../../dev/shm", root.path() / "srv/up");  // ".." stops at the root
    fs::create_symlink("real", root.path() / "srv/rel");
    fs::create_symlink("/loop", root.path() / "loop");           // a loop ends after 40 links
    CHECK(resolve_in_root(root.path(), "/data") == "/dev");
    CHECK(resolve_in_root(root.path(), "/data/null") == "/dev/null");
    CHECK(resolve_in_root(root.path(), "/srv/up/x") == "/dev/shm/x");
    CHECK(resolve_in_root(root.path(), "/srv/rel/new/dir") == "/srv/real/new/dir");
    CHECK(resolve_in_root(root.path(), "/srv/./rel/../real") == "/srv/real");
    CHECK(resolve_in_root(root.path(), "/nope/a") == "/nope/a");
    CHECK(resolve_in_root(root.path(), "/loop") == "/loop");

    nlohmann::json mounts = nlohmann::json::array({{{"destination", "/dev"}}, {{"destination", "/srv/rel"}}});
    CHECK(check_mount_targets(root.path(), mounts, 1));  // the runtime's own /dev is not checked
    mounts.push_back({{"destination", "/data"}});
    auto refused = check_mount_targets(root.path(), mounts, 1);
    REQUIRE(!refused);
    CHECK(refused.error().message == "mount destination /data leads to /dev through the image's symlinks: cannot mount over /dev");
}
