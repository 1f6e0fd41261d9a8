#include <ctr/pluginhost/manifest.hpp>

#include <ctr/sys/files.hpp>
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using ctr::pluginhost::parse_manifest;

namespace {
std::filesystem::path write(const ctr::test::ScratchDir& dir, const std::string& text) {
    auto p = dir.path() / "config.toml";
    REQUIRE(ctr::sys::write_file_atomic(p, text));
    return p;
}
const char* kGood = R"(name = "demo"
kind = "network"
abi = "1.2"
library = "libdemo.so"
version = "3.4.5"
description = "a demo"
[settings]
mtu = 1400
names = ["a", "b"]
nested = { on = true }
)";
}  // namespace

TEST_CASE("a good manifest parses, with settings as json") {
    ctr::test::ScratchDir dir;
    auto m = parse_manifest(write(dir, kGood));
    REQUIRE_MESSAGE(m.has_value(), (m ? "" : m.error().message));
    CHECK(m->name == "demo");
    CHECK(m->kind == CTR_KIND_NETWORK);
    CHECK(m->abi_major == 1);
    CHECK(m->abi_minor == 2);
    CHECK(m->library == dir.path() / "libdemo.so");
    CHECK(m->version == "3.4.5");
    CHECK(m->description == "a demo");
    auto s = nlohmann::json::parse(m->settings_json);
    CHECK(s["mtu"] == 1400);
    CHECK(s["names"][1] == "b");
    CHECK(s["nested"]["on"] == true);
}

TEST_CASE("a manifest's default flag and commands") {
    ctr::test::ScratchDir dir;
    auto m = parse_manifest(write(dir, std::string(kGood).insert(std::string(kGood).find("[settings]"),
        "default = true\nholds_containers = true\n[[commands]]\nname = \"kernel\"\nprogram = \"tool\"\nsummary = \"s\"\n"
        "start_args = [\"update\"]\nstart_when = \"auto\"\n") +
        "[[commands]]\nname = \"other\"\nprogram = \"t2\"\n"));
    REQUIRE_MESSAGE(m.has_value(), (m ? "" : m.error().message));
    CHECK(m->is_default);
    CHECK(m->holds_containers);
    CHECK(m->isolation.empty());  // not said: not claimed
    REQUIRE(m->commands.size() == 2);
    CHECK(m->commands[0].name == "kernel");
    CHECK(m->commands[0].program == dir.path() / "tool");
    CHECK(m->commands[0].summary == "s");
    CHECK(m->commands[0].start_args == std::vector<std::string>{"update"});
    CHECK(m->commands[0].start_when == "auto");
    CHECK(m->commands[1].start_args.empty());
    CHECK(nlohmann::json::parse(m->settings_json)["mtu"] == 1400);  // [settings] is still the table it was
}

TEST_CASE("manifest errors name the file, the line and the key") {
    ctr::test::ScratchDir dir;
    struct Case {
        std::string text, want1, want2;
    };
    std::vector<Case> cases = {
        {"name = \"x\"\nkind = \"runtime\"\nabi = \"1.0\nlibrary = \"l.so\"\n", "config.toml:3:", ""},
        {"name = \"x\"\nkind = \"runtime\"\nabi = \"1.0\"\nlibrary = \"l.so\"\nversion = \"1\"\ncolour = \"red\"\n",
         "config.toml:6:", "unknown key \"colour\""},
        {"name = \"x\"\nkind = \"runtime\"\nabi = \"1.0\"\nlibrary = \"l.so\"\nversion = 3\n", "config.toml:5:",
         "key \"version\" must be a string"},
        {"name = \"x\"\nkind = \"vm\"\nabi = \"1.0\"\nlibrary = \"l.so\"\nversion = \"1\"\n", "config.toml:2:",
         "runtime, network or image, not \"vm\""},
        {"name = \"x\"\nkind = \"runtime\"\nabi = \"one\"\nlibrary = \"l.so\"\nversion = \"1\"\n", "config.toml:3:",
         "\"abi\" must look like \"1.0\""},
        {"name = \"Bad Name\"\nkind = \"runtime\"\nabi = \"1.0\"\nlibrary = \"l.so\"\nversion = \"1\"\n",
         "config.toml:1:", "invalid plugin name \"Bad Name\""},
        {"name = \"x\"\nkind = \"runtime\"\nabi = \"1.0\"\nlibrary = \"../l.so\"\nversion = \"1\"\n", "config.toml:4:",
         "beside the manifest"},
        {"name = \"x\"\nkind = \"runtime\"\nabi = \"1.0\"\nversion = \"1\"\n", "config.toml", "missing key \"library\""},
        {"name = \"x\"\nkind = \"runtime\"\nabi = \"1.0\"\nlibrary = \"l.so\"\nversion = \"1\"\nsettings = 4\n",
         "config.toml:6:", "\"settings\" must be a table"},
        {"name = \"x\"\nkind = \"runtime\"\nabi = \"1.0\"\nlibrary = \"l.so\"\nversion = \"1\"\ndefault = \"yes\"\n",
         "config.toml:6:", "key \"default\" must be true or false"},
        {"name = \"x\"\nkind = \"runtime\"\nabi = \"1.0\"\nlibrary = \"l.so\"\nversion = \"1\"\nholds_containers = 1\n",
         "config.toml:6:", "key \"holds_containers\" must be true or false"},
        {"name = \"x\"\nkind = \"runtime\"\nabi = \"1.0\"\nlibrary = \"l.so\"\nversion = \"1\"\n[[commands]]\nname = \"k\"\nprogram = \"/bin/sh\"\n",
         "config.toml:6:", "beside the manifest, not \"/bin/sh\""},
        {"name = \"x\"\nkind = \"runtime\"\nabi = \"1.0\"\nlibrary = \"l.so\"\nversion = \"1\"\n[[commands]]\nname = \"k\"\nprogram = \"t\"\nwhen = 1\n",
         "config.toml:9:", "unknown key \"commands.when\""},
        {"name = \"x\"\nkind = \"runtime\"\nabi = \"1.0\"\nlibrary = \"l.so\"\nversion = \"1\"\ncommands = 3\n",
         "config.toml:6:", "key \"commands\" must be an array of tables"},
        {"name = \"x\"\nkind = \"runtime\"\nabi = \"1.0\"\nlibrary = \"l.so\"\nversion = \"1\"\nisolation = \"strong\"\n",
         "config.toml:6:", "key \"isolation\" must be none, namespaces or vm, not \"strong\""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        auto m = parse_manifest(write(dir, c.text));
        REQUIRE_FALSE(m.has_value());
        CHECK(m.error().status == CTR_E_INVALID_ARGUMENT);
        CHECK(m.error().message.find((dir.path() / c.want1).string()) != std::string::npos);
        CHECK(m.error().message.find(c.want2) != std::string::npos);
        CHECK(m.error().message.find('\n') == std::string::npos);
    }
}

TEST_CASE("plugin names") {
    using ctr::pluginhost::valid_plugin_name;
    CHECK(valid_plugin_name("runtime-linux"));
    CHECK(valid_plugin_name("a.b_c-1"));
    CHECK_FALSE(valid_plugin_name(""));
    CHECK_FALSE(valid_plugin_name("-x"));
    CHECK_FALSE(valid_plugin_name("a/b"));
    CHECK_FALSE(valid_plugin_name("a..b"));
    CHECK_FALSE(valid_plugin_name("Upper"));
    CHECK_FALSE(valid_plugin_name(std::string(64, 'a')));
}
