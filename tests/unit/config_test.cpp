#include "config/system_config.hpp"

#include <ctr/sys/files.hpp>
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <cstdlib>

using ctr::config::load;

namespace {
std::filesystem::path write(const ctr::test::ScratchDir& d, const std::string& text) {
    auto p = d.path() / "config.toml";
    REQUIRE(ctr::sys::write_file_atomic(p, text));
    return p;
}
}  // namespace

TEST_CASE("no file: the defaults") {
    auto c = load("/nonexistent/config.toml");
    REQUIRE(c.has_value());
    CHECK(c->container_runtime.empty());  // the plugins' default (Registry::choose)
    CHECK(c->image_plugin.empty());
    CHECK(c->network_plugin.empty());
    CHECK(c->network_subnet_pool == "10.213.0.0/16");
}

TEST_CASE("the shipped configs/config.toml parses to the defaults and documents every key") {
    const char* source = std::getenv("CTR_SOURCE_ROOT");  // set by meson test
    REQUIRE_MESSAGE(source != nullptr, "CTR_SOURCE_ROOT is not set: run this through `meson test`");
    std::filesystem::path shipped = std::filesystem::path(source) / "configs/config.toml";
    auto c = load(shipped);
    REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().message));
    ctr::config::SystemConfig defaults;
    CHECK(c->properties() == defaults.properties());
    auto text = ctr::sys::read_file(shipped);
    REQUIRE(text.has_value());
    const auto props = defaults.properties();  // items() of a temporary would dangle
    for (const auto& [key, value] : props.items()) {
        CAPTURE(key);
        std::string leaf = key.substr(key.find('.') + 1);
        CHECK(text->find("\n" + leaf + " = ") != std::string::npos);
    }
    CHECK(text->find("\nversion = 1\n") != std::string::npos);
}

TEST_CASE("values are read and checked") {
    ctr::test::ScratchDir d;
    auto c = load(write(d, "[container]\ncpus = 2\nmemory = \"1g\"\n[registry]\ninsecure = [\"r.local:5000\"]\n[log]\nlevel = \"debug\"\n"));
    REQUIRE(c.has_value());
    CHECK(c->container_cpus == 2);
    CHECK(c->container_memory == 1024LL * 1024 * 1024);
    CHECK(c->registry_insecure == std::vector<std::string>{"r.local:5000"});
    CHECK(c->log_level == "debug");
    auto chosen = load(write(d, "[image]\nplugin = \"image-alt\"\n[network]\nplugin = \"network-alt\"\n"));
    REQUIRE(chosen.has_value());
    CHECK(chosen->image_plugin == "image-alt");
    CHECK(chosen->network_plugin == "network-alt");
    // [plugins.NAME]: settings for that plugin, shown as properties.
    auto p = load(write(d, "[plugins.runtime-linux]\noci_runtime = \"runc\"\n[plugins.example]\nlevel = 3\n"));
    REQUIRE(p.has_value());
    CHECK(p->plugin_settings["runtime-linux"]["oci_runtime"] == "runc");
    CHECK(p->plugin_settings["example"]["level"] == 3);
    CHECK(p->properties()["plugins.runtime-linux.oci_runtime"] == "runc");
}

TEST_CASE("errors name the file, the line and the key") {
    ctr::test::ScratchDir d;
    struct Case {
        std::string text, want;
    };
    std::vector<Case> cases = {
        {"[container]\ncpus = \"two\"\n", ":2: key \"container.cpus\": must be a number"},
        {"[container]\ncpus = -1\n", ":2: key \"container.cpus\": must not be negative"},
        {"[container]\nmemory = \"12XB\"\n", ":2: key \"container.memory\": container.memory: invalid size \"12XB\""},
        {"\n[network]\nsubnet_pool = \"10.0.0.1/16\"\n", ":3: key \"network.subnet_pool\": network.subnet_pool: subnet \"10.0.0.1/16\" has host bits set"},
        {"[network]\nsubnet_pool = \"10.0.0.0/33\"\n", "invalid subnet \"10.0.0.0/33\""},
        {"[network]\nprefix_length = 40\n", ":2: key \"network.prefix_length\": must be from 8 to 30"},
        {"[log]\nlevel = \"loud\"\n", ":2: key \"log.level\": must be trace, debug, info, warn or error"},
        {"[container]\nruntime = \"Bad/Name\"\n", "is not a plugin name"},
        {"[image]\nplugin = \"Bad/Name\"\n", ":2: key \"image.plugin\": \"Bad/Name\" is not a plugin name"},
        {"[network]\nplugin = 3\n", ":2: key \"network.plugin\": must be a string"},
        {"[kernel]\nauto_update = true\n", "key \"kernel\": moved: a plugin's own settings live in its [plugins.NAME] table"},
        {"[containers]\ncpus = 1\n", ":2: key \"containers.cpus\": unknown key"},
        {"cpus = 1\n", ":1: key \"cpus\": unknown key"},
        {"[container\n", "config.toml:1:"},
        {"[network]\nsubnet_pool = \"10.0.0.0/24\"\nprefix_length = 16\n", "do not fit in the pool"},
        {"[plugins]\nruntime-linux = 3\n", ":2: key \"plugins.runtime-linux\": must be a table of settings"},
        {"[plugins.\"Bad Name\"]\nx = 1\n", "key \"plugins.Bad Name\": not a plugin name"},
        {"version = 2\n[container]\ncpus = 1\n", ":1: key \"version\": is 2, newer than this container speaks (1): upgrade container"},
        {"version = \"1\"\n", ":1: key \"version\": must be a whole number"},
        {"version = 0\n", ":1: key \"version\": must be 1 or more"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        auto r = load(write(d, c.text));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().message.find((d.path() / "config.toml").string()) == 0);
        CHECK(r.error().message.find(c.want) != std::string::npos);
    }
}

TEST_CASE("check_cidr") {
    using ctr::config::check_cidr;
    CHECK(check_cidr("10.88.0.0/16", "x"));
    CHECK(check_cidr("0.0.0.0/0", "x"));
    CHECK(check_cidr("192.168.1.4/30", "x"));
    CHECK_FALSE(check_cidr("192.168.1.5/30", "x"));
    CHECK_FALSE(check_cidr("10.0.0.0", "x"));
    CHECK_FALSE(check_cidr("10.0.0.0/", "x"));
    CHECK_FALSE(check_cidr("10.0.0/8", "x"));
    CHECK_FALSE(check_cidr("garbage", "x"));
}
