// What a container holds on the host, and when it gives it back: a stopped
// container holds no mounts or namespaces, `system stop --all` leaves
// nothing of ours on the host but what a later start makes again from the
// records, `system reset` takes the whole root; stops run in parallel, in
// dependency order, with each one's grace period.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include <ctr/sys/files.hpp>

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <random>

using ctr::test::DaemonRoot;
using ctr::test::ScratchDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

ctr::test::BusyboxRegistry& teardown_busybox() {
    static ctr::test::BusyboxRegistry s("for a in ping; do ln -sf busybox bin/$a; done");
    return s;
}

using ctr::test::inspect;
std::string id_of(const DaemonRoot& r, const std::string& name) { return inspect(r, name)["id"]; }

// The mounts under the root that belong to container `id` (its overlay, its
// namespace's pin).
std::vector<std::string> mounts_of_id(const DaemonRoot& r, const std::string& id) {
    std::vector<std::string> out;
    for (const auto& m : ScratchDir::mounts_below(r.path()))
        if (m.find(id) != std::string::npos) out.push_back(m);
    return out;
}

size_t mounts_of(const DaemonRoot& r, const std::string& id) { return mounts_of_id(r, id).size(); }

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
    return out;
}

bool link_exists(const std::string& name) {
    auto res = ctr::sys::run_capture({"/usr/sbin/ip", "link", "show", name}, 10000);
    return res && res->status.code == 0 && !res->status.signal;
}

// The bridges network-vmnet's state names, and whether its table is there.
std::vector<std::string> bridges_of(const DaemonRoot& r) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(r.path() / "var/lib/container/plugins/network-vmnet/networks", ec)) {
        auto text = ctr::sys::read_file(f.path());
        auto j = json::parse(text ? *text : std::string(), nullptr, false);
        if (j.is_object()) out.push_back(j.value("bridge", ""));
    }
    return out;
}

int64_t unix_of(const std::string& rfc3339) {
    std::tm tm{};
    REQUIRE(strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) != nullptr);
    return static_cast<int64_t>(timegm(&tm));
}

// A process that takes its time over SIGTERM: it notes the signal in
// /data/log (a volume), waits `grace` seconds, and ends.
std::vector<std::string> slow_to_stop(const std::string& tag, int grace) {
    return {"sh", "-c", "trap 'echo " + tag + " >> /data/log; sleep " + std::to_string(grace) + "; exit 0' TERM; while true; do sleep 0.1; done"};
}

}  // namespace

TEST_CASE("a stopped container holds no mount and no namespace; its start makes them again, with a new address if its own was taken" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const std::string port = std::to_string(20000 + std::random_device{}() % 20000);
    REQUIRE(r.cli({"run", "-d", "--name", "a", "-p", "127.0.0.1:" + port + ":80", teardown_busybox().image, "sleep", "600"}).code == 0);
    const std::string a = id_of(r, "a");
    CHECK(mounts_of(r, a) == 2);  // its root filesystem, its network namespace
    std::string first_ip = inspect(r, "a")["config"]["network_attachments"][0]["ip"];

    REQUIRE(r.cli({"stop", "-t", "1", "a"}).code == 0);
    CHECK_MESSAGE(mounts_of(r, a) == 0, "left mounted: " << joined(mounts_of_id(r, a)) << "\n" << r.daemon_log());
    CHECK_FALSE(fs::exists(r.path() / "run/container/netns" / a));
    // cp and export still see its files: mounted for the copy, not after.
    auto hosts = r.cli({"cp", "a:/etc/hosts", "-"});
    CHECK(hosts.code == 0);
    CHECK(hosts.out.find(first_ip) != std::string::npos);
    CHECK(mounts_of(r, a) == 0);

    // Its address and port went back: another container may take them.
    REQUIRE(r.cli({"run", "-d", "--name", "b", teardown_busybox().image, "sleep", "600"}).code == 0);
    std::string b_ip = inspect(r, "b")["config"]["network_attachments"][0]["ip"];
    CHECK(b_ip == first_ip);  // the lowest free one: a's

    REQUIRE(r.cli({"start", "a"}).code == 0);
    CHECK(mounts_of(r, a) == 2);
    std::string second_ip = inspect(r, "a")["config"]["network_attachments"][0]["ip"];
    CHECK(second_ip != first_ip);
    CHECK(inspect(r, "a")["config"]["network_attachments"][0]["mac"] != inspect(r, "b")["config"]["network_attachments"][0]["mac"]);
    auto own_hosts = r.cli({"exec", "a", "cat", "/etc/hosts"});
    CHECK(own_hosts.out.find(second_ip + "\t") != std::string::npos);
    CHECK(own_hosts.out.find(first_ip + "\t") == std::string::npos);
    // The names on the network follow: b reaches a by name at its new address.
    auto ping = r.cli({"exec", "b", "ping", "-c", "1", "-W", "2", "a"});
    CHECK(ping.out.find(second_ip) != std::string::npos);
    // A network a stopped container will want back stays.
    REQUIRE(r.cli({"network", "create", "kept"}).code == 0);
    REQUIRE(r.cli({"create", "--name", "later", "--network", "kept", teardown_busybox().image, "true"}).code == 0);
    auto rm = r.cli({"network", "rm", "kept"});
    CHECK(rm.code == 125);
    CHECK(rm.err.find("is in use by 1 container(s), running or not: later") != std::string::npos);
    CHECK(r.cli({"network", "prune"}).out.find("kept") == std::string::npos);
}

TEST_CASE("system stop --all leaves nothing of ours on the host; a later start makes it again; system reset takes the root" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"network", "create", "front"}).code == 0);
    REQUIRE(r.cli({"run", "-d", "--name", "web", "--network", "front", teardown_busybox().image, "sleep", "600"}).code == 0);
    REQUIRE(r.cli({"run", "-d", "--name", "plain", teardown_busybox().image, "sleep", "600"}).code == 0);
    REQUIRE(r.cli({"create", "--name", "made", teardown_busybox().image, "true"}).code == 0);
    auto bridges = bridges_of(r);
    REQUIRE(bridges.size() == 2);
    for (const auto& b : bridges) CHECK(link_exists(b));

    REQUIRE(r.cli({"system", "stop", "--all"}).code == 0);
    CHECK(ScratchDir::mounts_below(r.path()).empty());
    std::error_code ec;
    CHECK((!fs::exists(r.path() / "run/container/netns", ec) || fs::is_empty(r.path() / "run/container/netns", ec)));
    for (const auto& b : bridges) CHECK_FALSE(link_exists(b));
    CHECK(bridges_of(r).size() == 2);  // the records stay
    CHECK(r.runtime_leftovers().empty());

    // A start makes what it needs again from the records.
    REQUIRE(r.cli({"start", "web"}).code == 0);
    REQUIRE(r.cli({"run", "--rm", "--network", "front", teardown_busybox().image, "ping", "-c", "1", "-W", "2", "web"}).code == 0);
    CHECK(inspect(r, "made")["state"] == "created");
    REQUIRE(r.cli({"start", "-a", "made"}).code == 0);

    auto reset = r.cli({"system", "reset", "--force"});
    CHECK(reset.code == 0);
    CHECK(reset.out.find("removed web\n") != std::string::npos);
    CHECK(reset.out.find("removed front\n") != std::string::npos);
    CHECK(reset.out.find("removed " + teardown_busybox().image + "\n") != std::string::npos);
    CHECK(ScratchDir::mounts_below(r.path()).empty());
    CHECK(bridges_of(r).empty());
    CHECK(r.release_network_leftovers() == 0);
    CHECK(r.cli({"system", "status"}).code == 1);  // stopped
    CHECK(r.cli({"ls", "-a", "-q"}).out.empty());  // (a new daemon, an empty root)
    CHECK(r.cli({"image", "ls", "-q"}).out.empty());
}

TEST_CASE("stops run at once, each with its own grace period; compose stops dependents first; a recreate sends SIGTERM" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"volume", "create", "logs"}).code == 0);
    for (const char* name : {"s1", "s2", "s3"}) {
        std::vector<std::string> args = {"run", "-d", "--name", name, "--stop-timeout", "10", "-v", "logs:/data", teardown_busybox().image};
        auto cmd = slow_to_stop(name, 3);
        args.insert(args.end(), cmd.begin(), cmd.end());
        REQUIRE(r.cli(args).code == 0);
    }
    REQUIRE(r.cli({"system", "stop", "--all"}).code == 0);
    std::vector<int64_t> ends;
    for (const char* name : {"s1", "s2", "s3"}) {
        auto c = inspect(r, name);
        CHECK(c["exit_code"] == 0);  // it ended by itself after TERM, inside its grace period
        ends.push_back(unix_of(c["finished_at"]));
    }
    auto [lo, hi] = std::minmax_element(ends.begin(), ends.end());
    CHECK(*hi - *lo <= 2);  // one after another would be 3 s apart each

    ScratchDir dir;
    const std::string file = (dir.path() / "compose.yaml").string();
    auto write = [&](const std::string& version) {
        std::string yaml = "name: order\nservices:\n";
        for (const auto& [svc, deps] : std::vector<std::pair<std::string, std::string>>{{"db", ""}, {"cache", ""}, {"web", "[db, cache]"}}) {
            auto cmd = slow_to_stop(svc, 2);
            yaml += "  " + svc + ":\n    image: " + teardown_busybox().image + "\n    stop_grace_period: 10s\n    volumes: [logs:/data]\n" +
                    "    environment: [V=" + (svc == "web" ? version : "1") + "]\n    command: [sh, -c, \"" + cmd[2] + "\"]\n";
            if (!deps.empty()) yaml += "    depends_on: " + deps + "\n";
        }
        yaml += "volumes:\n  logs:\n    external: true\n";
        REQUIRE(ctr::sys::write_file_atomic(file, yaml));
    };
    write("1");
    REQUIRE(r.cli({"run", "--rm", "-v", "logs:/data", teardown_busybox().image, "sh", "-c", ": > /data/log"}).code == 0);
    REQUIRE(r.cli({"compose", "-f", file, "up", "-d"}).code == 0);
    REQUIRE(r.cli({"compose", "-f", file, "stop"}).code == 0);
    auto web = unix_of(inspect(r, "order-web-1")["finished_at"]);
    auto db = unix_of(inspect(r, "order-db-1")["finished_at"]);
    auto cache = unix_of(inspect(r, "order-cache-1")["finished_at"]);
    CHECK(db >= web + 2);     // after web's 2 s of grace
    CHECK(cache >= web + 2);
    CHECK(std::abs(db - cache) <= 1);  // together
    auto log = r.cli({"run", "--rm", "-v", "logs:/data", teardown_busybox().image, "cat", "/data/log"}).out;
    CHECK(log.rfind("web\n", 0) == 0);

    // A changed service is recreated: its old container hears TERM first.
    REQUIRE(r.cli({"compose", "-f", file, "up", "-d"}).code == 0);
    REQUIRE(r.cli({"run", "--rm", "-v", "logs:/data", teardown_busybox().image, "sh", "-c", ": > /data/log"}).code == 0);
    write("2");
    REQUIRE(r.cli({"compose", "-f", file, "up", "-d"}).code == 0);
    CHECK(r.cli({"run", "--rm", "-v", "logs:/data", teardown_busybox().image, "cat", "/data/log"}).out == "web\n");
    REQUIRE(r.cli({"compose", "-f", file, "down"}).code == 0);
}
