// Plugins chosen by kind and configuration: with a second image plugin and a
// second network plugin on the plugin path (image-oci's and network-vmnet's
// code built again as image-alt and network-alt), the host needs to be told
// which to use, and then uses them end to end: pull, run, a network. The
// host's code knows neither name.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include <ctr/sys/files.hpp>

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <unistd.h>

using ctr::test::DaemonRoot;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

ctr::test::BusyboxRegistry& choice_busybox() {
    static ctr::test::BusyboxRegistry s("ln -s busybox bin/ip");
    return s;
}

bool has_entries(const fs::path& dir) {
    std::error_code ec;
    return fs::is_directory(dir, ec) && fs::directory_iterator(dir, ec) != fs::directory_iterator();
}

}  // namespace

TEST_CASE("plugins by configuration: a second image and network plugin are used end to end, the host unchanged" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const std::vector<std::string> env = {"CONTAINER_PLUGIN_PATH=" + ctr::test::env_or_empty("CTR_ALT_PLUGINS")};
    r.start(env);
    auto plugins = json::parse(r.cli({"system", "plugin", "ls", "--format", "json"}, env).out, nullptr, false);
    int loaded = 0;
    for (const auto& p : plugins)
        if ((p.value("name", "") == "image-alt" || p.value("name", "") == "network-alt") && p.value("state", "") == "loaded") ++loaded;
    REQUIRE_MESSAGE(loaded == 2, plugins.dump());

    // Two of a kind and none chosen: an error naming both and the key.
    auto pull = r.cli({"image", "pull", choice_busybox().image}, env);
    CHECK(pull.code == 125);
    CHECK(pull.err.find("several image plugins are loaded") != std::string::npos);
    CHECK(pull.err.find("image-oci") != std::string::npos);
    CHECK(pull.err.find("image-alt") != std::string::npos);
    CHECK(pull.err.find("[image] plugin") != std::string::npos);
    auto nets = r.cli({"network", "ls"}, env);
    CHECK(nets.code == 125);
    CHECK(nets.err.find("several network plugins are loaded") != std::string::npos);

    // Chosen in the system config: those are used, the others stay empty.
    REQUIRE(r.cli({"system", "stop"}, env).code == 0);
    fs::create_directories(r.path() / "etc/container");
    REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml",
                                        "[image]\nplugin = \"image-alt\"\n[network]\nplugin = \"network-alt\"\n"));
    r.start(env);
    auto pulled = r.cli({"image", "pull", choice_busybox().image}, env);
    REQUIRE_MESSAGE(pulled.code == 0, pulled.err);
    REQUIRE(r.cli({"network", "create", "--subnet", "10.213.77.0/24", "altnet"}, env).code == 0);
    auto run = r.cli({"run", "--rm", "--network", "altnet", choice_busybox().image, "ip", "-4", "addr", "show", "eth0"}, env);
    CHECK_MESSAGE(run.code == 0, run.err);
    CHECK(run.out.find("10.213.77.") != std::string::npos);

    fs::path state = r.path() / "var/lib/container/plugins";
    // The image is in image-alt's index, not image-oci's.
    auto alt_index = ctr::sys::read_file(state / "image-alt/images.json");
    REQUIRE(alt_index.has_value());
    CHECK(alt_index->find("test/busybox") != std::string::npos);
    auto oci_index = ctr::sys::read_file(state / "image-oci/images.json");
    CHECK((!oci_index || oci_index->find("test/busybox") == std::string::npos));
    CHECK(has_entries(state / "network-alt/networks"));
    CHECK_FALSE(has_entries(state / "network-vmnet/networks"));
    CHECK(r.cli({"image", "ls"}, env).out.find("test/busybox") != std::string::npos);

    // A name that no plugin has is refused the same way --runtime is.
    REQUIRE(r.cli({"network", "rm", "altnet"}, env).code == 0);
    REQUIRE(r.cli({"system", "stop"}, env).code == 0);
    REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml", "[image]\nplugin = \"image-nope\"\n"));
    r.start(env);
    auto unknown = r.cli({"image", "ls"}, env);
    CHECK(unknown.code == 125);
    CHECK(unknown.err.find("unknown image plugin \"image-nope\"") != std::string::npos);
    CHECK(unknown.err.find("image-alt") != std::string::npos);
    // Back to the shipped plugins for DaemonRoot's own teardown checks.
    REQUIRE(r.cli({"system", "stop"}, env).code == 0);
    fs::remove(r.path() / "etc/container/config.toml");
}
