// Image and network plugins run outside the daemon, one plugin host process
// each (lib/pluginhost/remote.hpp): a plugin that crashes or hangs in a call
// fails that call with an error naming the plugin and the operation, its
// process is restarted, and the daemon goes on serving. The misbehaving
// plugin is a fixture (fixtures/flaky-plugins/flaky-net): create_network of
// "crash..." dereferences NULL, of "hang..." never returns; its manifest
// gives calls 1500 ms.
#include "tests/support/run.hpp"

#include "api/client.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

using ctr::test::DaemonRoot;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> flaky_env() {
    return {"CONTAINER_PLUGIN_PATH=" + ctr::test::env_or_empty("CTR_FLAKY_PLUGINS")};
}

// A root whose daemon uses flaky-net. The config goes before the root is
// torn down: the teardown starts a daemon without the fixture on its path.
struct FlakyRoot : DaemonRoot {
    FlakyRoot() {
        fs::create_directories(path() / "etc/container");
        REQUIRE(ctr::sys::write_file_atomic(path() / "etc/container/config.toml", "[network]\nplugin = \"flaky-net\"\n"));
        start(flaky_env());
    }
    ~FlakyRoot() { fs::remove(path() / "etc/container/config.toml"); }
};

// The plugin host process of plugin `name`, as the daemon reports it
// (GET /v1/plugins); 0 when it runs in none.
int host_pid(const DaemonRoot& r, const std::string& name) {
    auto plugins = ctr::api::Client(r.path() / "run/container/api.sock").call("GET", "/v1/plugins");
    REQUIRE(plugins.has_value());
    for (const auto& p : *plugins)
        if (p.value("name", "") == name) return p.value("host_pid", 0);
    return 0;
}

std::string comm_of(int pid) {
    auto st = ctr::sys::read_proc_stat(pid);
    return st ? st->comm : "";
}

bool ended_within(int pid, std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (ctr::sys::process_ended(pid)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ctr::sys::process_ended(pid);
}

}  // namespace

TEST_CASE("plugin isolation: image and network plugins run in processes of their own, which end with the daemon" * CTR_NEEDS_ROOT) {
    FlakyRoot r;
    int daemon = r.daemon_pid();
    std::vector<int> hosts;
    for (const char* name : {"image-oci", "flaky-net"}) {
        int pid = host_pid(r, name);
        CAPTURE(name);
        REQUIRE(pid > 0);
        CHECK(pid != daemon);
        CHECK(comm_of(pid) == "container-plugi");  // comm is cut at 15 characters
        auto st = ctr::sys::read_proc_stat(pid);
        REQUIRE(st.has_value());
        CHECK(st->ppid == daemon);
        hosts.push_back(pid);
    }
    // The plugin is not in the daemon's address space.
    auto maps = ctr::sys::read_file("/proc/" + std::to_string(daemon) + "/maps");
    REQUIRE(maps.has_value());
    CHECK(maps->find("libflaky-net.so") == std::string::npos);
    CHECK(maps->find("libimage-oci.so") == std::string::npos);

    // A daemon killed outright takes its plugin hosts with it.
    r.kill9();
    for (int pid : hosts) CHECK_MESSAGE(ended_within(pid, std::chrono::seconds(10)), "plugin host ", pid, " outlived the daemon");
}

TEST_CASE("plugin isolation: a crash in a call fails that call, the plugin is restarted and the daemon serves on" * CTR_NEEDS_ROOT) {
    FlakyRoot r;
    int before = host_pid(r, "flaky-net");
    REQUIRE(before > 0);

    auto crashed = r.cli({"network", "create", "crash1"}, flaky_env());
    CHECK(crashed.code == 125);
    CHECK_MESSAGE(crashed.err.find("plugin flaky-net crashed") != std::string::npos, crashed.err);
    CHECK_MESSAGE(crashed.err.find("signal 11") != std::string::npos, crashed.err);
    CHECK_MESSAGE(crashed.err.find("create_network") != std::string::npos, crashed.err);
    CHECK_MESSAGE(crashed.err.find("restarted") != std::string::npos, crashed.err);
    CHECK(std::count(crashed.err.begin(), crashed.err.end(), '\n') == 1);  // one line

    // A new process serves the next call; the old one is gone.
    int after = host_pid(r, "flaky-net");
    CHECK(after > 0);
    CHECK(after != before);
    CHECK(ctr::sys::process_ended(before));
    auto made = r.cli({"network", "create", "fine1"}, flaky_env());
    CHECK_MESSAGE(made.code == 0, made.err);
    CHECK(r.cli({"network", "ls"}, flaky_env()).code == 0);
    // The daemon and the other plugins never noticed.
    CHECK(r.cli({"info"}, flaky_env()).code == 0);
    CHECK(r.cli({"image", "ls"}, flaky_env()).code == 0);
    CHECK(r.daemon_log().find("plugin flaky-net crashed") != std::string::npos);
}

TEST_CASE("plugin isolation: a call that hangs past the deadline is failed, the process killed and restarted" * CTR_NEEDS_ROOT) {
    FlakyRoot r;
    int before = host_pid(r, "flaky-net");
    REQUIRE(before > 0);

    auto hung = r.cli({"network", "create", "hang1"}, flaky_env());
    CHECK(hung.code == 125);
    CHECK_MESSAGE(hung.err.find("plugin flaky-net did not answer create_network within 1500 ms") != std::string::npos,
                  hung.err);
    CHECK_MESSAGE(hung.err.find("restarted") != std::string::npos, hung.err);
    CHECK(ctr::sys::process_ended(before));
    int after = host_pid(r, "flaky-net");
    CHECK(after > 0);
    CHECK(after != before);

    // The operator's deadline wins over the manifest's.
    REQUIRE(r.cli({"system", "stop"}, flaky_env()).code == 0);
    REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml",
                                        "[network]\nplugin = \"flaky-net\"\ncall_timeout_ms = 700\n"));
    r.start(flaky_env());
    auto again = r.cli({"network", "create", "hang2"}, flaky_env());
    CHECK_MESSAGE(again.err.find("within 700 ms") != std::string::npos, again.err);
    CHECK(r.cli({"network", "create", "fine2"}, flaky_env()).code == 0);
}
