// --mount, Docker's syntax, into -v and --tmpfs specs.
#include "services/spec.hpp"

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
