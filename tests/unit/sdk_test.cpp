// The C++ SDK as a plugin author meets it: request parsing, the macro's
// negotiation, the exception firewall, and the default UNIMPLEMENTED.
#include <ctr/sdk/plugin.hpp>

#include <ctr/pluginhost/call.hpp>
#include <ctr/pluginhost/loader.hpp>
#include <ctr/pluginhost/manifest.hpp>
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <cstdlib>

using namespace ctr;

namespace {

// A plugin class compiled into this test, exercised through its C entry.
class Thrower : public sdk::Runtime {
public:
    using Runtime::Runtime;
    Result<sdk::json> state(const sdk::json& req) override {
        auto id = CTR_TRY(sdk::get_string(req, "id"));
        if (id == "throw") throw std::runtime_error("boom");
        if (id == "detailed") return Error{CTR_E_FAILED_PRECONDITION, "vm is paused", CTR_DETAIL_PLUGIN_BASE + 7};
        return sdk::json{{"id", id}, {"status", "stopped"}};
    }
};

ctr_host make_host() {
    ctr_host h{};
    h.struct_size = sizeof h;
    h.abi_major = CTR_ABI_MAJOR;
    h.abi_minor_max = CTR_ABI_MINOR;
    h.plugin_name = "thrower";
    h.state_dir = "/tmp";
    return h;
}

}  // namespace

TEST_CASE("parse_request rejects unknown fields, non-objects and bad json") {
    auto good = sdk::parse_request("{\"id\":\"a\"}", 10, {"id", "force"});
    REQUIRE(good.has_value());
    auto unknown = sdk::parse_request("{\"id\":\"a\",\"x\":1}", 16, {"id"});
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().status == CTR_E_INVALID_ARGUMENT);
    CHECK(unknown.error().message == "unknown request field \"x\"");
    CHECK_FALSE(sdk::parse_request("[1]", 3, {"id"}));
    CHECK_FALSE(sdk::parse_request("{", 1, {"id"}));
}

TEST_CASE("typed getters name the field") {
    sdk::json j = {{"id", 3}, {"n", 4}, {"b", true}};
    auto id = sdk::get_string(j, "id");
    REQUIRE_FALSE(id);
    CHECK(id.error().message == "field \"id\" must be a string");
    CHECK(sdk::get_string(j, "missing").error().message == "missing field \"missing\"");
    CHECK(*sdk::get_int(j, "n") == 4);
    CHECK(*sdk::get_int(j, "absent", 9) == 9);
    CHECK(*sdk::get_bool(j, "b", false) == true);
    CHECK_FALSE(sdk::get_bool(j, "n", false));
}

TEST_CASE("the entry negotiates, the firewall catches, defaults say unimplemented") {
    ctr_host host = make_host();
    ctr_plugin_desc desc{};
    desc.struct_size = sizeof desc;
    char msg[256] = {};
    ctr_error err{sizeof err, 0, 0, sizeof msg, msg};
    REQUIRE(sdk::detail::entry<Thrower>(&host, &desc, &err, "thrower", "1.0") == CTR_OK);
    CHECK(desc.kind == CTR_KIND_RUNTIME);
    CHECK(desc.abi_minor == CTR_ABI_MINOR);
    REQUIRE(desc.runtime != nullptr);

    auto ok_reply = pluginhost::invoke(desc.runtime->state, desc.instance, {{"id", "c1"}}, "state");
    REQUIRE(ok_reply.has_value());
    CHECK((*ok_reply)["status"] == "stopped");

    auto thrown = pluginhost::invoke(desc.runtime->state, desc.instance, {{"id", "throw"}}, "state");
    REQUIRE_FALSE(thrown);
    CHECK(thrown.error().status == CTR_E_INTERNAL);
    CHECK(thrown.error().message == "plugin threw: boom");

    // A plugin's own detail code reaches the host's error unchanged.
    auto detailed = pluginhost::invoke(desc.runtime->state, desc.instance, {{"id", "detailed"}}, "state");
    REQUIRE_FALSE(detailed);
    CHECK(detailed.error().status == CTR_E_FAILED_PRECONDITION);
    CHECK(detailed.error().detail_code == CTR_DETAIL_PLUGIN_BASE + 7);
    CHECK(detailed.error().message == "vm is paused");

    auto unimpl = pluginhost::invoke(desc.runtime->exec, desc.instance, {{"id", "c1"}, {"exec_id", "e"}}, "exec");
    REQUIRE_FALSE(unimpl);
    CHECK(unimpl.error().status == CTR_E_UNIMPLEMENTED);
    CHECK(unimpl.error().message == "exec is not implemented by this plugin");
    desc.destroy(desc.instance);

    // A host that needs a newer minor than the SDK speaks is refused.
    host.abi_minor_min = CTR_ABI_MINOR + 1;
    host.abi_minor_max = CTR_ABI_MINOR + 5;
    ctr_plugin_desc desc2{};
    desc2.struct_size = sizeof desc2;
    CHECK(sdk::detail::entry<Thrower>(&host, &desc2, &err, "thrower", "1.0") == CTR_E_UNSUPPORTED);
    CHECK(std::string(msg).find("host needs abi minor") != std::string::npos);

    // A descriptor smaller than 1.0's is refused before anything is written.
    host = make_host();
    ctr_plugin_desc small{};
    small.struct_size = 8;
    CHECK(sdk::detail::entry<Thrower>(&host, &small, &err, "thrower", "1.0") == CTR_E_INVALID_ARGUMENT);
    CHECK(small.instance == nullptr);
}

TEST_CASE("an SDK plugin loaded by the host answers with the SDK's messages") {
    auto manifest = pluginhost::parse_manifest(std::filesystem::path(std::getenv("CTR_BUILD_ROOT")) /
                                            "plugins/network-vmnet/config.toml");
    REQUIRE(manifest.has_value());
    test::ScratchDir dir;
    pluginhost::HostOffer offer;
    offer.state_dir = dir.path().string();
    auto p = pluginhost::LoadedPlugin::load(*manifest, offer);
    REQUIRE_MESSAGE(p.has_value(), (p ? "" : p.error().message));
    CHECK((*p)->abi_minor() == CTR_ABI_MINOR);
    auto bad = pluginhost::invoke_raw((*p)->network()->list, (*p)->instance(), "{\"bogus\":true}", "list");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().status == CTR_E_INVALID_ARGUMENT);
    CHECK(bad.error().message == "unknown request field \"bogus\"");
}
