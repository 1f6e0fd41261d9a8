// The registry over the build's plugins and the bad fixtures: every bad
// plugin gets its state and one-line reason, and the good ones still load.
#include <ctr/pluginhost/host_env.hpp>
#include <ctr/pluginhost/registry.hpp>

#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <map>

using namespace ctr::pluginhost;

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

RegistryOptions options(const ctr::test::ScratchDir& root) {
    RegistryOptions o;
    o.dirs = {std::filesystem::path(env("CTR_BUILD_ROOT")) / "plugins",
              std::filesystem::path(env("CTR_BUILD_ROOT")) / "plugin-sdk/examples", env("CTR_FIXTURE_PLUGINS")};
    o.host_version = "test";
    o.state_root = root.path() / "state";
    o.probe_exe = std::filesystem::path(env("CTR_BUILD_ROOT")) / "host/container-plugin-probe";
    o.probe_cache = root.path() / "run/plugin-probe.json";
    o.probe_timeout_ms = 2000;
    return o;
}

}  // namespace

TEST_CASE("every bad plugin is reported with a reason, and the good ones load") {
    ctr::test::ScratchDir root;
    auto reg = Registry::scan(options(root));
    std::map<std::string, const PluginEntry*> by_path;
    for (const auto& e : reg->entries()) by_path[e.path.filename().string()] = &e;

    struct Want {
        std::string folder, state, reason;
    };
    std::vector<Want> wants = {
        {"runtime-linux", "loaded", ""},
        {"network-vmnet", "loaded", ""},
        {"image-oci", "loaded", ""},
        {"runtime-example", "loaded", ""},
        {"bad-toml", "failed", "config.toml:4:"},
        {"unknown-key", "failed", "unknown key \"colour\""},
        {"wrong-type", "failed", "key \"version\" must be a string"},
        {"missing-library", "failed", "library not found"},
        {"not-elf", "failed", "not an ELF shared object"},
        {"wrong-abi", "skipped", "abi 2.0 not supported"},
        {"no-entry", "failed", "missing entry symbol ctr_plugin_entry_v1"},
        {"declines", "skipped", "declined: needs a frobnicator"},
        {"crashes", "failed", "init crashed: killed by signal 11"},
        {"hangs", "failed", "init hung"},
        {"kind-mismatch", "failed", "plugin says it is a runtime plugin, manifest says network"},
        {"null-slot", "failed", "runtime table slot 3 is null (every v1 slot is required)"},
        {"twin-a", "loaded", ""},
        {"twin-b", "duplicate", "a plugin named \"twin\" was already found"},
    };
    for (const auto& w : wants) {
        CAPTURE(w.folder);
        REQUIRE(by_path.count(w.folder) == 1);
        const PluginEntry& e = *by_path[w.folder];
        CHECK(std::string(state_name(e.state)) == w.state);
        CHECK(e.reason.find(w.reason) != std::string::npos);
        CHECK(e.reason.find('\n') == std::string::npos);
        CHECK((e.plugin != nullptr) == (w.state == "loaded"));
    }
}

TEST_CASE("probe verdicts are cached: a second scan runs no probe and agrees") {
    ctr::test::ScratchDir root;
    auto first = Registry::scan(options(root));
    REQUIRE(std::filesystem::exists(root.path() / "run/plugin-probe.json"));
    // With the probe gone, only the cache can give the same verdicts.
    auto o = options(root);
    o.probe_exe = root.path() / "no-such-probe";
    auto second = Registry::scan(o);
    REQUIRE(first->entries().size() == second->entries().size());
    for (size_t i = 0; i < first->entries().size(); ++i) {
        CAPTURE(first->entries()[i].name);
        CHECK(first->entries()[i].state == second->entries()[i].state);
        CHECK(first->entries()[i].reason == second->entries()[i].reason);
    }
    // And without the cache, the missing probe is what every plugin reports.
    o.probe_cache = root.path() / "other-cache.json";
    auto third = Registry::scan(o);
    const PluginEntry* e = third->find("example");
    REQUIRE(e != nullptr);
    CHECK(e->state == PluginState::failed);
    CHECK(e->reason.find("cannot run the plugin probe") != std::string::npos);
}

TEST_CASE("plugins bound for a plugin host start there without a probe; the others are probed; the order found is kept") {
    ctr::test::ScratchDir root;
    auto o = options(root);
    o.plugin_host_exe = std::filesystem::path(env("CTR_BUILD_ROOT")) / "host/container-plugin-host";
    o.load_kinds = {CTR_KIND_IMAGE, CTR_KIND_NETWORK};
    // No probe to run: a plugin that needed one says so; those that go to a
    // plugin host do not need it.
    o.probe_exe = root.path() / "no-such-probe";
    auto reg = Registry::scan(o);
    auto listed = Registry::scan(options(root));  // probes only, one verdict each
    REQUIRE(reg->entries().size() == listed->entries().size());
    for (size_t i = 0; i < reg->entries().size(); ++i) CHECK(reg->entries()[i].name == listed->entries()[i].name);
    for (const char* name : {"image-oci", "network-vmnet"}) {
        CAPTURE(name);
        const PluginEntry* e = reg->find(name);
        REQUIRE(e != nullptr);
        CHECK(e->state == PluginState::loaded);
        REQUIRE(e->plugin != nullptr);
        CHECK(e->plugin->remote() != nullptr);
    }
    const PluginEntry* runtime = reg->find("runtime-linux");
    REQUIRE(runtime != nullptr);
    CHECK(runtime->state == PluginState::failed);
    CHECK(runtime->reason.find("cannot run the plugin probe") != std::string::npos);
    // A network plugin that is not what its manifest says fails in its
    // plugin host with the words a probe would have said.
    const PluginEntry* mismatch = nullptr;
    for (const auto& e : reg->entries())
        if (e.path.filename() == "kind-mismatch") mismatch = &e;
    REQUIRE(mismatch != nullptr);
    CHECK(mismatch->state == PluginState::failed);
    CHECK(mismatch->reason.find("plugin says it is a runtime plugin, manifest says network") != std::string::npos);
}

TEST_CASE("get() finds a loaded plugin by name and kind, and lists the others when it cannot") {
    ctr::test::ScratchDir root;
    auto reg = Registry::scan(options(root));
    auto rt = reg->get("example", CTR_KIND_RUNTIME);
    REQUIRE(rt.has_value());
    CHECK((*rt)->runtime() != nullptr);
    CHECK((*rt)->network() == nullptr);

    auto missing = reg->get("no-such-runtime", CTR_KIND_RUNTIME);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().status == CTR_E_NOT_FOUND);
    CHECK(missing.error().message.find("available: ") != std::string::npos);
    CHECK(missing.error().message.find("example") != std::string::npos);
    CHECK(missing.error().message.find("runtime-linux") != std::string::npos);

    auto wrong_kind = reg->get("image-oci", CTR_KIND_RUNTIME);
    CHECK_FALSE(wrong_kind);

    auto declined = reg->get("declines", CTR_KIND_RUNTIME);
    REQUIRE_FALSE(declined);
    CHECK(declined.error().message.find("skipped") != std::string::npos);
}

TEST_CASE("choose(): the configured plugin, else the only one of its kind, else the kind's default; else the candidates") {
    ctr::test::ScratchDir root;
    auto reg = Registry::scan(options(root));
    // Runtimes: several loaded; runtime-linux's manifest says default = true.
    auto rt = reg->choose(CTR_KIND_RUNTIME, "", "[container] runtime");
    REQUIRE_MESSAGE(rt.has_value(), rt.error().message);
    CHECK(*rt == "runtime-linux");
    CHECK(*reg->choose(CTR_KIND_RUNTIME, "example", "[container] runtime") == "example");
    auto unknown = reg->choose(CTR_KIND_RUNTIME, "nope", "[container] runtime");
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().message.find("unknown runtime plugin \"nope\"") != std::string::npos);
    // One image plugin: it, with nothing configured.
    CHECK(*reg->choose(CTR_KIND_IMAGE, "", "[image] plugin in config.toml") == "image-oci");
    // A plugin of another kind is not one of this kind.
    CHECK_FALSE(reg->choose(CTR_KIND_IMAGE, "network-vmnet", "[image] plugin in config.toml"));

    // A second image and network plugin: none chosen is an error naming both.
    auto o = options(root);
    o.dirs.push_back(env("CTR_ALT_PLUGINS"));
    auto two = Registry::scan(o);
    auto image = two->choose(CTR_KIND_IMAGE, "", "[image] plugin in config.toml");
    REQUIRE_FALSE(image);
    CHECK(image.error().message == "several image plugins are loaded (image-oci, image-alt) and [image] plugin in config.toml chooses none");
    CHECK(*two->choose(CTR_KIND_IMAGE, "image-alt", "[image] plugin in config.toml") == "image-alt");
    CHECK(*two->choose(CTR_KIND_NETWORK, "network-alt", "[network] plugin") == "network-alt");
}

TEST_CASE("default_of(): the kind's default from the manifests alone; no plugin loaded, no state directory made") {
    ctr::test::ScratchDir root;
    auto o = options(root);
    o.probe_cache.clear();
    auto rt = Registry::default_of(o, CTR_KIND_RUNTIME, "--plugin");
    REQUIRE_MESSAGE(rt.has_value(), rt.error().message);
    CHECK(*rt == "runtime-linux");
    CHECK(*Registry::default_of(o, CTR_KIND_IMAGE, "[image] plugin in config.toml") == "image-oci");
    // Two image plugins, neither the default: the error names what chooses, as given.
    o.dirs.push_back(env("CTR_ALT_PLUGINS"));
    auto two = Registry::default_of(o, CTR_KIND_IMAGE, "--plugin");
    REQUIRE_FALSE(two);
    CHECK(two.error().message == "several image plugins are loaded (image-oci, image-alt) and --plugin chooses none");
    CHECK_FALSE(std::filesystem::exists(root.path() / "state"));  // the host as it was
}
