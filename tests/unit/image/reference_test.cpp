#include "digest.hpp"
#include "oci_types.hpp"
#include "reference.hpp"

#include <doctest/doctest.h>

using namespace image_oci;

TEST_CASE("references normalise as Docker's do") {
    struct Case {
        const char* in;
        const char* out;
    };
    for (auto c : std::initializer_list<Case>{
             {"busybox", "docker.io/library/busybox:latest"},
             {"busybox:1.36", "docker.io/library/busybox:1.36"},
             {"user/app", "docker.io/user/app:latest"},
             {"ghcr.io/org/app:v1", "ghcr.io/org/app:v1"},
             {"localhost/app", "localhost/app:latest"},
             {"127.0.0.1:5000/a/b:c", "127.0.0.1:5000/a/b:c"},
             {"reg:5000/app", "reg:5000/app:latest"},
             {"a.b/c@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
              "a.b/c@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
             {"a.b/c:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
              "a.b/c:t@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
             {"my-app__x.y", "docker.io/library/my-app__x.y:latest"},
         }) {
        CAPTURE(c.in);
        auto r = parse_reference(c.in);
        REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
        CHECK(r->str() == c.out);
    }
    CHECK(parse_reference("app", "registry.local").value().str() == "registry.local/app:latest");
}

TEST_CASE("bad references are refused before any I/O, naming the problem") {
    struct Case {
        std::string in, why;
    };
    std::vector<Case> cases = {
        {"", "empty"},
        {"UPPER/case", "must be lowercase"},
        {"a//b", "invalid repository name"},
        {"name:", "invalid tag"},
        {"name:-bad", "invalid tag"},
        {"name:" + std::string(129, 'a'), "invalid tag"},
        {"x@sha256:123", "invalid digest"},
        {"x@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "lower-case hex"},
        {"x@md5:abc", "invalid digest"},
        {"x@sha256:../../etc/passwd", "invalid digest"},
        {"a::b", "invalid"},
        {"reg.io/" + std::string(260, 'a'), "longer than 255"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.in);
        auto r = parse_reference(c.in);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().status == CTR_E_INVALID_ARGUMENT);
        CHECK(r.error().message.find(c.why) != std::string::npos);
    }
}

TEST_CASE("sha256 and chain IDs") {
    CHECK(sha256_of("") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(check_digest(sha256_of("x")));
}

TEST_CASE("documents that could be read two ways are refused") {
    std::string both = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "manifests":[],"config":{"mediaType":"a","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0},"layers":[]})";
    CHECK_FALSE(parse_manifest(both, "application/vnd.oci.image.manifest.v1+json"));
    CHECK_FALSE(parse_index(both, "application/vnd.oci.image.index.v1+json"));
    std::string manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "config":{"mediaType":"a","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0},"layers":[]})";
    CHECK(parse_manifest(manifest, "application/vnd.oci.image.manifest.v1+json"));
    auto swapped = parse_manifest(manifest, "application/vnd.oci.image.index.v1+json");
    REQUIRE_FALSE(swapped);
    CHECK(swapped.error().message.find("disagrees") != std::string::npos);
    CHECK_FALSE(parse_manifest(R"({"schemaVersion":1})", ""));
    CHECK_FALSE(parse_config(R"({"rootfs":{"diff_ids":["sha256:nope"]}})"));
}

TEST_CASE("platform selection skips attestations and lists what there is") {
    auto d = [](const char* os, const char* arch, const char* variant) {
        Descriptor x;
        x.media_type = "application/vnd.oci.image.manifest.v1+json";
        x.digest = sha256_of(std::string(os) + arch + variant);
        x.platform = Platform{os, arch, variant};
        return x;
    };
    Index idx{{d("linux", "amd64", ""), d("linux", "arm64", "v8"), d("unknown", "unknown", "")}};
    CHECK(select_platform(idx, Platform{"linux", "amd64", ""})->digest == idx.manifests[0].digest);
    CHECK(select_platform(idx, Platform{"linux", "arm64", "v8"})->digest == idx.manifests[1].digest);
    auto none = select_platform(idx, Platform{"linux", "riscv64", ""});
    REQUIRE_FALSE(none);
    CHECK(none.error().status == CTR_E_NOT_FOUND);
    CHECK(none.error().message == "no image for platform linux/riscv64 (available: linux/amd64, linux/arm64/v8)");
    CHECK(parse_platform("linux/arm64/v8")->variant == "v8");
    CHECK_FALSE(parse_platform("linux"));
}
