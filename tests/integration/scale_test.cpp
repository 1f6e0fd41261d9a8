// Many containers on one daemon: 500 running when the daemon is killed; the
// next one finds every one of them, and stops and removes them all. Not timed
// (bench/scale.sh measures); this checks that nothing is lost at that count:
// no fd or watch limit reached, no record skipped by the reconcile.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"
#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <set>

using ctr::test::DaemonRoot;
using nlohmann::json;

namespace {

constexpr int kContainers = 500;
constexpr int kWorkers = 4;

}  // namespace

TEST_CASE("500 running containers survive a kill -9 of the daemon: the next one finds each running, stops and removes them all" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    r.start();
    REQUIRE(r.cli({"image", "pull", "--progress", "none", ctr::test::shared_busybox().image}).code == 0);

    // kWorkers clients side by side, each starting its share.
    std::atomic<int> next{0};
    std::vector<std::future<std::vector<std::string>>> workers;
    for (int w = 0; w < kWorkers; ++w)
        workers.push_back(std::async(std::launch::async, [&] {
            std::vector<std::string> errors;
            for (int i = next++; i < kContainers; i = next++) {
                auto res = r.cli({"run", "-d", "--network", "none", "--name", "s" + std::to_string(i), ctr::test::shared_busybox().image, "sleep", "600"});
                if (res.code != 0) errors.push_back("s" + std::to_string(i) + ": " + res.err);
            }
            return errors;
        }));
    std::vector<std::string> errors;
    for (auto& w : workers)
        for (auto& e : w.get()) errors.push_back(e);
    INFO(r.daemon_log());
    REQUIRE_MESSAGE(errors.empty(), errors.size(), " failed, the first: ", errors.empty() ? "" : errors.front());

    r.kill9();
    auto ls = r.cli({"ls", "--format", "json"});  // a new daemon, which reconciles
    REQUIRE_MESSAGE(ls.code == 0, ls.err);
    std::set<std::string> running;
    for (const auto& c : json::parse(ls.out))
        if (c["state"] == "running") running.insert(c["name"].get<std::string>());
    CHECK(running.size() == kContainers);
    CHECK(running.count("s0") == 1);
    CHECK(running.count("s" + std::to_string(kContainers - 1)) == 1);
    CHECK(r.cli({"exec", "s250", "true"}).code == 0);

    auto stop = r.cli({"system", "stop", "--all"});
    CHECK_MESSAGE(stop.code == 0, stop.err);
    auto after = json::parse(r.cli({"ls", "-a", "--format", "json"}).out);
    CHECK(after.size() == kContainers);
    int stopped = 0;
    for (const auto& c : after) stopped += c["state"] == "stopped";
    CHECK(stopped == kContainers);
    auto rm = r.cli({"rm", "-a", "-f"});
    CHECK_MESSAGE(rm.code == 0, rm.err);
    CHECK(r.cli({"ls", "-a", "-q"}).out.empty());
    CHECK(r.runtime_leftovers().empty());
}
