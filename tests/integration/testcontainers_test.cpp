// testcontainers for Node (the npm package, installed here into a throwaway
// folder) driving our Docker API socket, with its reaper enabled: the reaper
// is our stand-in for Ryuk (tests/fixtures/reaper/reaper.c; Ryuk's image is
// on Docker Hub), built into an image by our own `build`.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include "tests/support/skip.hpp"
#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

using ctr::test::DaemonRoot;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The version the test pins: its client speaks API 1.41 as docker-py does,
// and runs on Debian 12's Node.js 18 (the 11 and later releases need 20+).
constexpr const char* kTestcontainers = "testcontainers@10.28.0";

ctr::sys::Captured must_run(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& cwd, int timeout_ms) {
    ctr::sys::RunOptions o;
    o.timeout_ms = timeout_ms;
    o.capture_stderr = true;
    o.env = env;
    o.cwd = cwd;
    auto res = ctr::sys::run_capture(argv, o);
    REQUIRE_MESSAGE(res.has_value(), (res ? "" : res.error().message));
    return *res;
}

}  // namespace

TEST_CASE("testcontainers for Node: a container waited for by its log, reached by its mapped port, exec'd, stopped; its reaper removes what is left" *
          CTR_NEEDS_ROOT) {
    const std::string node = ctr::sys::find_program("node"), npm = ctr::sys::find_program("npm");
    REQUIRE_MESSAGE(!node.empty(), "node: scripts/install-deps.sh installs Node.js");
    REQUIRE_MESSAGE(!npm.empty(), "npm: scripts/install-deps.sh installs it");
    ctr::test::ScratchDir app;
    auto installed = must_run({npm, "install", "--no-audit", "--no-fund", "--loglevel=error", kTestcontainers}, {}, app.path().string(), 300000);
    REQUIRE_MESSAGE(installed.status.code == 0, installed.err);
    fs::copy_file(fs::path(ctr::test::env_or_empty("CTR_SOURCE_ROOT")) / "tests/integration/testcontainers/app.js", app.path() / "app.js");

    DaemonRoot r;
    r.start();
    const std::string image = ctr::test::shared_busybox().image;
    // The reaper's image: the static reaper over the busybox image, as its command.
    const fs::path ctx = app.path() / "reaper-image";
    fs::create_directories(ctx);
    fs::copy_file(ctr::test::build_root() / "tests/test-reaper", ctx / "reaper");
    REQUIRE(ctr::sys::write_file_atomic(ctx / "Dockerfile", "FROM " + image + "\nCOPY reaper /bin/reaper\nCMD [\"/bin/reaper\"]\n"));
    auto built = r.cli({"build", "-q", "-t", "localhost/test-reaper:1", ctx.string()});
    REQUIRE_MESSAGE(built.code == 0, built.err);

    auto ran = must_run({node, "app.js"},
                        {"DOCKER_HOST=unix://" + (r.path() / "run/container/docker.sock").string(), "RYUK_CONTAINER_IMAGE=localhost/test-reaper:1",
                         "IMAGE=" + image, "TMPDIR=" + app.path().string(), "HOME=" + app.path().string(), "DEBUG=testcontainers*"},
                        app.path().string(), 180000);
    INFO(ran.out);
    INFO(ran.err);
    REQUIRE(ran.status.code == 0);
    auto seen = json::parse(ran.out.substr(ran.out.rfind("\n{") + 1), nullptr, false);  // the script's last line
    REQUIRE(seen.is_object());
    CHECK(seen["body"] == "hello-from-testcontainers\n");
    CHECK(seen["logs"] == "ready");
    CHECK(seen["exec"]["exitCode"] == 3);
    CHECK(seen["exec"]["stdout"] == "out\n");
    CHECK(seen["exec"]["stderr"] == "err\n");
    const std::string left = seen["left"];
    CHECK(r.cli({"inspect", left}).code == 0);  // still there when the client ended ...

    // ... and gone, with the reaper itself, once its reconnection time (2 s)
    // has passed; the reaper's container (AutoRemove) is hidden from `ls` as
    // soon as it stopped, and the default network is free once it is removed.
    std::string listed;
    bool network_free = false;
    for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60); std::chrono::steady_clock::now() < deadline;) {
        listed = r.cli({"ls", "-a", "-q"}).out;
        if (listed.empty() && (network_free = r.cli({"network", "rm", "default"}).code == 0)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    CHECK_MESSAGE(listed.empty(), listed);
    CHECK(network_free);
}
