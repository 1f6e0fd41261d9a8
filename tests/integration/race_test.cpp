// Commands that meet: two starts of one container, `rm -f` while `run --rm`
// waits on the same container, and Ctrl-C to the CLI in the middle of `run
// -d` and `create`. Each ends with every container whole or gone, one
// process per container, and nothing left over (DaemonRoot's checks).
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

using ctr::test::DaemonRoot;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Processes of this host whose command line is exactly `argv`.
int processes_running(const std::vector<std::string>& argv) {
    std::string want;
    for (const auto& a : argv) want += a + '\0';
    int n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        auto cmdline = ctr::sys::read_file(e.path() / "cmdline");
        if (cmdline && *cmdline == want) ++n;
    }
    return n;
}

json all_containers(const DaemonRoot& r) {
    auto ls = r.cli({"ls", "-a", "--format", "json"});
    REQUIRE_MESSAGE(ls.code == 0, ls.err);
    return json::parse(ls.out);
}

}  // namespace

TEST_CASE("two starts of one container at once: one process runs; the other start succeeds or says it already runs" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start();
    REQUIRE(r.cli({"create", "--name", "twice", ctr::test::shared_busybox().image, "sleep", "307"}).code == 0);
    auto first = std::async(std::launch::async, [&] { return r.cli({"start", "twice"}); });
    auto second = std::async(std::launch::async, [&] { return r.cli({"start", "twice"}); });
    auto a = first.get(), b = second.get();
    INFO(a.err << b.err);
    CHECK((a.code == 0 || b.code == 0));
    for (const auto* res : {&a, &b})
        if (res->code != 0) CHECK(res->err.find("container twice is already running") != std::string::npos);
    CHECK(all_containers(r)[0]["state"] == "running");
    CHECK(processes_running({"sleep", "307"}) == 1);
    CHECK(r.cli({"rm", "-f", "twice"}).code == 0);
    CHECK(processes_running({"sleep", "307"}) == 0);
}

TEST_CASE("rm -f while run --rm waits on the same container: both end, the container is gone once" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start();
    auto run = std::async(std::launch::async, [&] { return r.cli({"run", "--rm", "--name", "raced", ctr::test::shared_busybox().image, "sleep", "308"}); });
    bool running = false;
    for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
         !running && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(std::chrono::milliseconds(20)))
        running = processes_running({"sleep", "308"}) == 1;
    REQUIRE(running);
    auto rm = r.cli({"rm", "-f", "raced"});
    CHECK_MESSAGE(rm.code == 0, rm.err);
    auto ran = run.get();
    CHECK(ran.code == 137);  // killed, as docker's run says it
    CHECK(all_containers(r).empty());
    CHECK(processes_running({"sleep", "308"}) == 0);
    CHECK(fs::is_empty(r.path() / "var/lib/container/containers"));
}

TEST_CASE("Ctrl-C to the CLI during run -d and create: each container is whole or absent, and rm -f removes it" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start();
    (void)r.cli({"image", "pull", ctr::test::shared_busybox().image});
    const std::string cli = (ctr::test::build_root() / "host/container").string();
    int n = 0;
    for (const char* after : {"0.01", "0.03", "0.06", "0.1", "0.2", "0.4"}) {
        for (const char* verb : {"run", "create"}) {
            std::vector<std::string> argv = {"/usr/bin/timeout", "-s", "INT", after, cli, "--root", r.root(), verb};
            if (std::string(verb) == "run") argv.push_back("-d");
            for (const std::string& a : std::vector<std::string>{"--name", "c" + std::to_string(n++), ctr::test::shared_busybox().image, "sleep", "309"})
                argv.push_back(a);
            ctr::sys::RunOptions o;
            o.timeout_ms = 60000;
            (void)ctr::sys::run_capture(argv, o);
        }
    }
    // The daemon finishes (or rolls back) what each CLI asked before it went.
    json all;
    bool settled = false;
    for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
         !settled && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(std::chrono::milliseconds(50))) {
        all = all_containers(r);
        settled = std::none_of(all.begin(), all.end(), [](const json& c) { return c["state"] == "creating"; });
    }
    REQUIRE(settled);
    CHECK(!all.empty());  // the later interrupts come after the daemon answered
    for (const auto& c : all) {
        INFO(c.dump());
        CHECK((c["state"] == "created" || c["state"] == "running"));
        auto inspect = r.cli({"inspect", c["name"].get<std::string>()});
        CHECK(inspect.code == 0);
        CHECK(r.cli({"rm", "-f", c["name"].get<std::string>()}).code == 0);
    }
    CHECK(all_containers(r).empty());
    CHECK(processes_running({"sleep", "309"}) == 0);
    CHECK(fs::is_empty(r.path() / "var/lib/container/containers"));
}
