// `system dns` (apiserver/dns_hosts.hpp): running containers resolvable
// from the host as NAME.DOMAIN through the hosts file. The test's daemon
// writes a hosts file of its own ([dns] hosts_file); the host's resolver
// reads it in a private mount namespace where it is bound over /etc/hosts,
// so the machine's own /etc/hosts is never touched.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include "tests/support/skip.hpp"
#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

using ctr::test::DaemonRoot;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The daemon writes the block from its events: a moment after the change.
bool soon(const std::function<bool()>& ok) {
    for (int i = 0; i < 100; ++i) {
        if (ok()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return ok();
}

std::string ip_of(const DaemonRoot& r, const std::string& name) {
    auto ip = r.cli({"inspect", "-f", "{{.NetworkSettings.IPAddress}}", name}).out;
    while (!ip.empty() && ip.back() == '\n') ip.pop_back();
    return ip;
}

// What the host's resolver answers for `name`, with `hosts` as its /etc/hosts.
std::string resolve(const fs::path& hosts, const std::string& name) {
    auto res = ctr::sys::run_capture({"/usr/bin/unshare", "-m", "/bin/sh", "-c",
                                      "mount --bind \"$0\" /etc/hosts && getent hosts \"$1\"", hosts.string(), name},
                                     10000);
    REQUIRE(res);
    return res->out;
}

}  // namespace

TEST_CASE("system dns: the host resolves running containers as NAME.DOMAIN; entries follow start, stop, rename, a restart; delete and reset take them out" *
          CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const fs::path hosts = r.path() / "hosts";
    const std::string mine = "127.0.0.1\tlocalhost\n# the user's own line\n10.9.9.9\tkept.example\n";
    REQUIRE(ctr::sys::write_file_atomic(hosts, mine));
    REQUIRE(ctr::sys::make_dirs(r.path() / "etc/container"));
    REQUIRE(ctr::sys::write_file_atomic(r.path() / "etc/container/config.toml", "[dns]\nhosts_file = \"" + hosts.string() + "\"\n"));

    REQUIRE(r.cli({"run", "-d", "--name", "web", ctr::test::shared_busybox().image, "sleep", "600"}).code == 0);
    CHECK(ctr::test::file_text(hosts) == mine);  // nothing before a domain is made
    auto created = r.cli({"system", "dns", "create", "test"});
    REQUIRE_MESSAGE(created.code == 0, created.err);
    CHECK(created.out == "test\n");
    const std::string web_ip = ip_of(r, "web");
    REQUIRE_FALSE(web_ip.empty());
    CHECK(ctr::test::file_text(hosts).find(web_ip + "\tweb.test\n") != std::string::npos);
    CHECK(ctr::test::file_text(hosts).rfind(mine, 0) == 0);  // the user's lines first, as they were
    CHECK(resolve(hosts, "web.test").rfind(web_ip + " ", 0) == 0);

    REQUIRE(r.cli({"run", "-d", "--name", "db", ctr::test::shared_busybox().image, "sleep", "600"}).code == 0);
    const std::string db_ip = ip_of(r, "db");
    CHECK(soon([&] { return ctr::test::file_text(hosts).find(db_ip + "\tdb.test\n") != std::string::npos; }));
    REQUIRE(r.cli({"rename", "db", "store"}).code == 0);
    CHECK(soon([&] { return ctr::test::file_text(hosts).find(db_ip + "\tstore.test\n") != std::string::npos; }));
    CHECK(ctr::test::file_text(hosts).find("\tdb.test") == std::string::npos);
    CHECK(resolve(hosts, "store.test").rfind(db_ip + " ", 0) == 0);
    REQUIRE(r.cli({"stop", "-t", "0", "web"}).code == 0);
    CHECK(soon([&] { return ctr::test::file_text(hosts).find("web.test") == std::string::npos; }));
    CHECK(resolve(hosts, "web.test").empty());

    // Refusals: one line, exit 125, nothing changed.
    const std::string before = ctr::test::file_text(hosts);
    for (const auto& [domain, message] : std::vector<std::pair<std::string, std::string>>{
             {"test", "dns domain test exists"},
             {"Bad_Domain", "dns domain \"Bad_Domain\": want DNS labels"},
             {"localhost", "localhost names the host itself"},
             {"a..b", "dns domain \"a..b\": want DNS labels"}}) {
        auto bad = r.cli({"system", "dns", "create", domain});
        CHECK(bad.code == 125);
        CHECK_MESSAGE(bad.err.find(message) != std::string::npos, bad.err);
        CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
    }
    CHECK(r.cli({"system", "dns", "delete", "nope"}).code == 125);
    CHECK(ctr::test::file_text(hosts) == before);
    CHECK(r.cli({"system", "dns", "ls", "-q"}).out == "test\n");
    auto listed = json::parse(r.cli({"system", "dns", "ls", "--format", "json"}).out);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["domain"] == "test");
    CHECK(listed[0]["hosts_file"] == hosts.string());

    // A daemon killed while the file changed by hand: at its start it writes the block from its state.
    r.kill9();
    REQUIRE(ctr::sys::write_file_atomic(hosts, mine));
    REQUIRE(r.cli({"system", "start"}).code == 0);
    CHECK(soon([&] { return ctr::test::file_text(hosts).find(db_ip + "\tstore.test\n") != std::string::npos; }));

    // Two domains, then each deleted; the user's lines stay as they were.
    REQUIRE(r.cli({"system", "dns", "create", "containers.internal"}).code == 0);
    CHECK(ctr::test::file_text(hosts).find(db_ip + "\tstore.containers.internal\n") != std::string::npos);
    CHECK(r.cli({"system", "dns", "delete", "test"}).out == "test\n");
    CHECK(ctr::test::file_text(hosts).find("store.test") == std::string::npos);
    CHECK(ctr::test::file_text(hosts).find("store.containers.internal") != std::string::npos);
    // reset deletes the rest.
    auto reset = r.cli({"system", "reset", "--force"});
    CHECK_MESSAGE(reset.code == 0, reset.err);
    CHECK(ctr::test::file_text(hosts) == mine);
}
