// network-vmnet end to end: real bridges, veth pairs, network namespaces and
// nftables rules, made by the daemon of a throwaway root. Traffic stays on
// this machine: between containers, to the host on 127.0.0.1, and to an
// "outside" network namespace that the test makes and removes itself.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/netns.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>
#include <ctr/sys/unique_fd.hpp>

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <thread>

using ctr::test::DaemonRoot;
using ctr::test::http_get;
using ctr::test::Registry;
using ctr::test::ScratchDir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

ctr::test::BusyboxRegistry& network_busybox() {
    static ctr::test::BusyboxRegistry s(
        // busybox's wget -T crashes (Debian 1.35): timeouts come from `timeout` instead.
        "for a in httpd wget nslookup ip mkdir wc timeout; do ln -s busybox bin/$a; done");
    return s;
}

// A web server on port 80 that answers `text`.
std::vector<std::string> web_server(const std::string& text) {
    return {"sh", "-c", "mkdir -p /www && echo " + text + " > /www/index.html && exec httpd -f -p 80 -h /www"};
}

// A TCP port nothing listens on now, below the kernel's ephemeral range
// (32768 and up), where a client's or a free-port pick could take it next.
int random_port() {
    std::random_device rd;
    for (;;) {
        const int port = 20000 + static_cast<int>(rd() % 12000);
        ctr::sys::UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        if (s.valid() && ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return port;
    }
}

bool link_exists(const std::string& name) {
    auto r = ctr::sys::run_capture({"/usr/sbin/ip", "link", "show", name}, 10000);
    return r && r->status.code == 0 && !r->status.signal;
}

void sh(const std::vector<std::string>& argv) {
    auto r = ctr::sys::run_capture(argv, 10000);
    REQUIRE(r);
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    REQUIRE_MESSAGE(r->status.code == 0, (cmd + ": " + r->err));
}

// An HTTP GET from the host; the body, or empty.
// Waits until a container's web server answers from inside the network.
bool serving(const DaemonRoot& r, const std::string& network, const std::string& host) {
    for (int i = 0; i < 50; ++i) {
        if (r.cli({"run", "--rm", "--network", network, network_busybox().image, "sh", "-c", "timeout 2 wget -q -O - http://" + host + "/"}).code == 0)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

json inspect_network(const DaemonRoot& r, const std::string& name) { return json::parse(r.cli({"network", "inspect", name}).out)[0]; }

// A network namespace that plays "the world outside": a veth to the host
// (10.254.N.1 on our side, .2 inside), forwarding on our end only, and a web
// server inside. Everything is made by the test and removed by it.
struct Outside {
    ScratchDir dir;
    fs::path ns;
    std::string link;
    std::string ip, host_ip;
    pid_t server = -1;

    Outside() {
        std::random_device rd;
        int n = 1 + static_cast<int>(rd() % 250);
        ip = "10.254." + std::to_string(n) + ".2";
        host_ip = "10.254." + std::to_string(n) + ".1";
        link = "ctrto" + std::to_string(rd() % 100000);
        ns = dir.path() / "outside";
        REQUIRE(ctr::sys::make_netns(ns));
        std::string enter = "--net=" + ns.string();
        sh({"/usr/bin/nsenter", enter, "/usr/sbin/ip", "link", "add", "eth0", "type", "veth", "peer", "name", link, "netns",
            std::to_string(::getpid())});
        sh({"/usr/sbin/ip", "addr", "add", host_ip + "/30", "dev", link});
        sh({"/usr/sbin/ip", "link", "set", link, "up"});
        {
            std::ofstream f("/proc/sys/net/ipv4/conf/" + link + "/forwarding");
            f << "1";
        }
        sh({"/usr/bin/nsenter", enter, "/usr/sbin/ip", "addr", "add", ip + "/30", "dev", "eth0"});
        sh({"/usr/bin/nsenter", enter, "/usr/sbin/ip", "link", "set", "eth0", "up"});
        sh({"/usr/bin/nsenter", enter, "/usr/sbin/ip", "link", "set", "lo", "up"});
        sh({"/usr/bin/nsenter", enter, "/usr/sbin/ip", "route", "add", "default", "via", host_ip});
        fs::create_directories(dir.path() / "www");
        REQUIRE(ctr::sys::write_file_atomic(dir.path() / "www/index.html", "outside\n"));
        auto pid = ctr::sys::spawn({"/usr/bin/nsenter", enter, "/bin/busybox", "httpd", "-f", "-p", "80", "-h", (dir.path() / "www").string()}, {});
        REQUIRE(pid);
        server = *pid;
    }
    ~Outside() {
        if (server > 0) {
            ::kill(server, SIGKILL);
            ::waitpid(server, nullptr, 0);
        }
        (void)ctr::sys::run_capture({"/usr/sbin/ip", "link", "del", link}, 10000);
        (void)ctr::sys::remove_netns(ns);
    }
};

}  // namespace

TEST_CASE("containers on one network reach each other by address, name and alias; hosts and resolv.conf are written" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"network", "create", "front"}).code == 0);
    auto web = web_server("hello-web");
    std::vector<std::string> args = {"run", "-d", "--name", "web", "--network", "front", "--network-alias", "www", network_busybox().image};
    args.insert(args.end(), web.begin(), web.end());
    REQUIRE(r.cli(args).code == 0);
    auto net = inspect_network(r, "front");
    REQUIRE(net["endpoints"].size() == 1);
    std::string ip = net["endpoints"][0]["ip"];
    std::string gateway = net["gateway"];
    CHECK(json::parse(r.cli({"inspect", "web"}).out)[0]["config"]["network_attachments"][0]["ip"] == ip);

    REQUIRE(serving(r, "front", ip));
    for (const std::string& host : {ip, std::string("web"), std::string("www")}) {
        CAPTURE(host);
        auto got = r.cli({"run", "--rm", "--network", "front", network_busybox().image, "sh", "-c", "timeout 3 wget -q -O - http://" + host + "/"});
        CHECK(got.out == "hello-web\n");
    }
    // A third-party runtime joins the namespace the host wired, unchanged.
    auto example = r.cli({"run", "--rm", "--runtime", "example", "--network", "front", network_busybox().image, "sh", "-c",
                          "timeout 3 wget -q -O - http://" + ip + "/"});
    CHECK_MESSAGE(example.out == "hello-web\n", example.err);
    auto resolv = r.cli({"run", "--rm", "--network", "front", "--dns-search", "example.test", network_busybox().image, "cat", "/etc/resolv.conf"});
    CHECK(resolv.out == "nameserver " + gateway + "\nsearch example.test\n");
    auto hosts = r.cli({"run", "--rm", "--network", "front", "--hostname", "box", "--add-host", "db.test:10.1.2.3", "--add-host",
                        "gw:host-gateway", network_busybox().image, "cat", "/etc/hosts"});
    CHECK(hosts.out.find("\tbox") != std::string::npos);
    CHECK(hosts.out.find("10.1.2.3\tdb.test\n") != std::string::npos);
    CHECK(hosts.out.find(gateway + "\tgw\n") != std::string::npos);
    auto dns = r.cli({"run", "--rm", "--network", "front", "--dns", "10.9.9.9", network_busybox().image, "cat", "/etc/resolv.conf"});
    CHECK(dns.out == "nameserver 10.9.9.9\n");
    // An unknown single name is answered at once, not left to time out.
    auto missing = r.cli({"run", "--rm", "--network", "front", network_busybox().image, "nslookup", "nobody-here"});
    CHECK(missing.code != 0);
    CHECK(r.cli({"rm", "-f", "web"}).code == 0);
    CHECK(inspect_network(r, "front")["endpoints"].empty());
    // The name is gone with the container.
    CHECK(r.cli({"run", "--rm", "--network", "front", network_busybox().image, "nslookup", "web"}).code != 0);
}

TEST_CASE("containers on different networks cannot reach each other; one on both networks reaches both" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"network", "create", "red"}).code == 0);
    REQUIRE(r.cli({"network", "create", "blue"}).code == 0);
    for (const std::string& name : {std::string("red"), std::string("blue")}) {
        auto web = web_server("hello-" + name);
        std::vector<std::string> args = {"run", "-d", "--name", name + "-web", "--network", name, network_busybox().image};
        args.insert(args.end(), web.begin(), web.end());
        REQUIRE(r.cli(args).code == 0);
    }
    std::string red_ip = inspect_network(r, "red")["endpoints"][0]["ip"];
    REQUIRE(serving(r, "red", red_ip));
    // From blue: no route through the host to red, and no name either.
    auto across = r.cli({"run", "--rm", "--network", "blue", network_busybox().image, "sh", "-c", "timeout 2 wget -q -O - http://" + red_ip + "/"});
    CHECK(across.code != 0);
    CHECK(across.out.empty());
    CHECK(r.cli({"run", "--rm", "--network", "blue", network_busybox().image, "nslookup", "red-web"}).code != 0);
    // On both: two interfaces, and both servers by name.
    auto both = r.cli({"run", "--rm", "--network", "red", "--network", "blue", network_busybox().image, "sh", "-c",
                       "timeout 3 wget -q -O - http://red-web/ && timeout 3 wget -q -O - http://blue-web/ && ip -o -4 addr show | wc -l"});
    CHECK(both.out == "hello-red\nhello-blue\n3\n");  // lo, eth0, eth1
    // A network in use cannot go; its error names the container.
    auto in_use = r.cli({"network", "rm", "red"});
    CHECK(in_use.code == 125);
    CHECK(in_use.err.find("in use by 1 container") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "red-web", "blue-web"}).code == 0);
}

TEST_CASE("published ports answer on 127.0.0.1; a port already taken is refused and changes nothing" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    int port = random_port();
    auto web = web_server("published");
    std::vector<std::string> args = {"run", "-d", "--name", "pub", "-p", "127.0.0.1:" + std::to_string(port) + ":80", network_busybox().image};
    args.insert(args.end(), web.begin(), web.end());
    REQUIRE(r.cli(args).code == 0);
    std::string body;
    for (int i = 0; i < 50 && body.empty(); ++i) {
        body = http_get("127.0.0.1", port);
        if (body.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(body == "published\n");

    // A listener of the host's own on a port: publishing it fails, leaves
    // no container, and the rules are what they were.
    ctr::sys::UniqueFd taken(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    int taken_port = port + 1;
    a.sin_port = htons(static_cast<uint16_t>(taken_port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(taken.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(taken.get(), 1) == 0);
    auto table = [&] {
        auto t = ctr::sys::run_capture({"/usr/sbin/nft", "list", "ruleset"}, 10000);
        return t ? t->out : std::string();
    };
    std::string before = table();
    auto clash = r.cli({"run", "--rm", "-p", "127.0.0.1:" + std::to_string(taken_port) + ":80", network_busybox().image, "true"});
    CHECK(clash.code == 125);
    CHECK(clash.err.find("address already in use") != std::string::npos);
    CHECK(r.cli({"ls", "-a", "-q"}).out.size() == 13);  // only "pub"
    CHECK(table() == before);
    auto twice = r.cli({"run", "--rm", "-p", std::to_string(port) + ":80", network_busybox().image, "true"});
    CHECK(twice.code == 125);
    CHECK(twice.err.find("already published by container") != std::string::npos);

    // Bad specs: row 44 of the bad-input catalogue.
    for (const char* spec : {"0:80", "65536:80", "8000-8001:80", "80:80/sctp", "x:80", "10.0.0.300:80:80"}) {
        CAPTURE(spec);
        auto bad = r.cli({"run", "--rm", "-p", spec, network_busybox().image, "true"});
        CHECK(bad.code == 125);
        CHECK(bad.err.find(std::string("--publish \"") + spec + "\"") != std::string::npos);
    }
    CHECK(r.cli({"rm", "-f", "pub"}).code == 0);
    CHECK(http_get("127.0.0.1", port).empty());

    // No host port: a free one is chosen, and inspect says which.
    auto any_web = web_server("any-port");
    std::vector<std::string> any_args = {"run", "-d", "--name", "anyport", "-p", "127.0.0.1::80", network_busybox().image};
    any_args.insert(any_args.end(), any_web.begin(), any_web.end());
    REQUIRE(r.cli(any_args).code == 0);
    auto chosen = json::parse(r.cli({"inspect", "anyport"}).out)[0]["config"]["network_attachments"][0]["ports"];
    REQUIRE(chosen.size() == 1);
    int any_port = chosen[0]["host_port"];
    CHECK(any_port > 0);
    std::string got;
    for (int i = 0; i < 50 && got.empty(); ++i) {
        got = http_get("127.0.0.1", any_port);
        if (got.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(got == "any-port\n");
    CHECK(r.cli({"rm", "-f", "anyport"}).code == 0);
}

TEST_CASE("outbound traffic is masqueraded; an internal network has no way out" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    Outside outside;
    REQUIRE(r.cli({"network", "create", "open"}).code == 0);
    REQUIRE(r.cli({"network", "create", "--internal", "closed"}).code == 0);
    auto out = r.cli({"run", "--rm", "--network", "open", network_busybox().image, "sh", "-c", "timeout 3 wget -q -O - http://" + outside.ip + "/"});
    CHECK_MESSAGE(out.out == "outside\n", out.err);
    auto in = r.cli({"run", "--rm", "--network", "closed", network_busybox().image, "sh", "-c", "timeout 2 wget -q -O - http://" + outside.ip + "/"});
    CHECK(in.code != 0);
    CHECK(in.out.empty());
    // A port published on every address is reachable from outside too
    // (prerouting DNAT), and answers back through the host.
    int port = random_port();
    auto pweb = web_server("from-outside");
    std::vector<std::string> pargs = {"run", "-d", "--name", "pweb", "--network", "open", "-p", std::to_string(port) + ":80", network_busybox().image};
    pargs.insert(pargs.end(), pweb.begin(), pweb.end());
    REQUIRE(r.cli(pargs).code == 0);
    std::string fetched;
    for (int i = 0; i < 50 && fetched.empty(); ++i) {
        auto got = ctr::sys::run_capture({"/usr/bin/nsenter", "--net=" + outside.ns.string(), "/bin/busybox", "wget", "-q", "-O", "-",
                                          "http://" + outside.host_ip + ":" + std::to_string(port) + "/"}, 10000);
        if (got && got->status.code == 0) fetched = got->out;
        else std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(fetched == "from-outside\n");
    CHECK(r.cli({"rm", "-f", "pweb"}).code == 0);
    // Inside the internal network, containers still talk.
    auto web = web_server("inside");
    std::vector<std::string> args = {"run", "-d", "--name", "iweb", "--network", "closed", network_busybox().image};
    args.insert(args.end(), web.begin(), web.end());
    REQUIRE(r.cli(args).code == 0);
    CHECK(serving(r, "closed", "iweb"));
    auto publish = r.cli({"run", "--rm", "--network", "closed", "-p", std::to_string(random_port()) + ":80", network_busybox().image, "true"});
    CHECK(publish.code == 125);
    CHECK(publish.err.find("is internal") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "iweb"}).code == 0);
}

TEST_CASE("static addresses, exhaustion of a /29, and the address returns on rm" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto made = r.cli({"network", "create", "--subnet", "10.253.7.0/29", "small"});
    REQUIRE_MESSAGE(made.code == 0, made.err);
    CHECK(r.cli({"create", "--name", "fixed", "--network", "small", "--ip", "10.253.7.6", "--mac-address", "02:42:0a:fd:07:06",
                 network_busybox().image, "true"}).code == 0);
    auto fixed = inspect_network(r, "small")["endpoints"][0];
    CHECK(fixed["ip"] == "10.253.7.6");
    CHECK(fixed["mac"] == "02:42:0a:fd:07:06");
    // .1 is the gateway, .6 is taken: .2 to .5 are left.
    for (int i = 0; i < 4; ++i) CHECK(r.cli({"create", "--name", "n" + std::to_string(i), "--network", "small", network_busybox().image, "true"}).code == 0);
    // Without --mac-address the MAC follows the address (Docker's 02:42 rule), so a
    // container recreated on a freed address is reached at once, not after ARP caches expire.
    json small = inspect_network(r, "small");
    int seen = 0;
    for (const auto& e : small["endpoints"])
        if (e["ip"] == "10.253.7.2") seen += e["mac"] == "02:42:0a:fd:07:02";
    CHECK(seen == 1);
    auto full = r.cli({"create", "--name", "one-too-many", "--network", "small", network_busybox().image, "true"});
    CHECK(full.code == 125);
    CHECK(full.err.find("no free address in network \"small\" (10.253.7.0/29)") != std::string::npos);
    CHECK(r.cli({"ls", "-a", "-q"}).out.size() == 5 * 13);  // the failed one left nothing
    struct Bad {
        std::string ip, message;
    };
    for (const auto& b : {Bad{"10.253.8.2", "is outside network \"small\""}, Bad{"10.253.7.1", "is the gateway"},
                          Bad{"10.253.7.7", "broadcast address"}, Bad{"10.253.7.6", "is in use by container"},
                          Bad{"10.253.7", "is not an IPv4 address"}}) {
        CAPTURE(b.ip);
        auto bad = r.cli({"create", "--network", "small", "--ip", b.ip, network_busybox().image, "true"});
        CHECK(bad.code == 125);
        CHECK(bad.err.find(b.message) != std::string::npos);
    }
    CHECK(r.cli({"rm", "n2"}).code == 0);
    CHECK(r.cli({"create", "--name", "again", "--network", "small", network_busybox().image, "true"}).code == 0);
    CHECK(inspect_network(r, "small")["endpoints"].size() == 5);
    CHECK(r.cli({"rm", "fixed", "n0", "n1", "n3", "again"}).code == 0);
    CHECK(inspect_network(r, "small")["endpoints"].empty());
}

TEST_CASE("bad networks: invalid and overlapping subnets, duplicate names, unknown options" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"network", "create", "--subnet", "10.252.0.0/24", "first"}).code == 0);
    struct Bad {
        std::vector<std::string> args;
        std::string message;
    };
    for (const auto& b : std::vector<Bad>{
             {{"--subnet", "10.0.0.0/33", "x"}, "subnet: invalid subnet \"10.0.0.0/33\""},
             {{"--subnet", "10.0.0.1/24", "x"}, "host bits set"},
             {{"--subnet", "banana", "x"}, "subnet: invalid subnet \"banana\""},
             {{"--subnet", "10.252.0.0/16", "x"}, "overlaps network \"first\" (10.252.0.0/24)"},
             {{"--subnet", "127.1.0.0/24", "x"}, "overlaps the host's address 127.0.0.0/8 on lo"},
             {{"--subnet", "10.251.0.0/24", "--gateway", "10.251.1.1", "x"}, "gateway: 10.251.1.1 is not a host address"},
             {{"--subnet", "10.251.0.0/24", "first"}, "network \"first\" already exists"},
             {{"--option", "color=blue", "x"}, "unknown option \"color\""},
             {{"bad/name"}, "invalid network name"},
             {{"host"}, "is reserved"}}) {
        std::vector<std::string> args = {"network", "create"};
        args.insert(args.end(), b.args.begin(), b.args.end());
        auto res = r.cli(args);
        CAPTURE(b.message);
        CHECK(res.code == 125);
        CHECK(res.err.find(b.message) != std::string::npos);
    }
    auto ls = json::parse(r.cli({"network", "ls", "--format", "json"}).out);
    REQUIRE(ls.size() == 1);  // nothing half made
    CHECK(r.cli({"network", "rm", "nope"}).code != 0);
    CHECK(r.cli({"run", "--rm", "--network", "nope", network_busybox().image, "true"}).code == 125);
    CHECK(r.cli({"run", "--rm", "--network", "none", "-p", "80:80", network_busybox().image, "true"}).code == 125);
}

TEST_CASE("--network none has only loopback; --network host shares the host's interfaces" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    CHECK(r.cli({"run", "--rm", "--network", "none", network_busybox().image, "ls", "/sys/class/net"}).out == "lo\n");
    auto host = r.cli({"run", "--rm", "--network", "host", network_busybox().image, "ls", "/sys/class/net"});
    auto mine = ctr::sys::run_capture({"/bin/ls", "/sys/class/net"}, 10000);
    REQUIRE(mine);
    CHECK(host.out == mine->out);
    auto def = r.cli({"run", "--rm", network_busybox().image, "ls", "/sys/class/net"});
    CHECK(def.out == "eth0\nlo\n");  // the default network, made on first use
    CHECK(r.cli({"network", "ls", "-q"}).out == "default\n");
}

TEST_CASE("after kill -9 of the daemon, names and addresses survive; a crash mid-create leaks nothing" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"network", "create", "keep"}).code == 0);
    auto web = web_server("still-here");
    std::vector<std::string> args = {"run", "-d", "--name", "web", "--network", "keep", network_busybox().image};
    args.insert(args.end(), web.begin(), web.end());
    REQUIRE(r.cli(args).code == 0);
    std::string ip = inspect_network(r, "keep")["endpoints"][0]["ip"];
    r.kill9();
    // The restarted daemon serves the network's names again.
    CHECK(serving(r, "keep", "web"));
    CHECK(inspect_network(r, "keep")["endpoints"][0]["ip"] == ip);

    // Die between wiring the network and committing the container.
    r.kill9();
    auto crashed = r.cli({"create", "--name", "half", "--network", "keep", network_busybox().image, "true"},
                         {"CONTAINER_FAILPOINT=container-create-after-network"});
    CHECK(crashed.code != 0);
    auto ls = r.cli({"ls", "-a", "--format", "json"});  // a new daemon rolls back
    CHECK(json::parse(ls.out).size() == 1);
    CHECK(inspect_network(r, "keep")["endpoints"].size() == 1);
    std::error_code ec;
    size_t namespaces = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(r.path() / "run/container/netns", ec)) ++namespaces;
    CHECK(namespaces == 1);
    CHECK(r.cli({"rm", "-f", "web"}).code == 0);
}

TEST_CASE("teardown: after rm, network rm and system stop --all nothing of ours is left" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"network", "create", "gone"}).code == 0);
    auto a = r.cli({"run", "-d", "--name", "a", "--network", "gone", "-p", std::to_string(random_port()) + ":80", network_busybox().image, "sleep", "60"});
    REQUIRE_MESSAGE(a.code == 0, a.err);
    REQUIRE(r.cli({"run", "-d", "--name", "b", network_busybox().image, "sleep", "60"}).code == 0);
    std::string bridge = inspect_network(r, "gone")["bridge"];
    std::string default_bridge = inspect_network(r, "default")["bridge"];
    std::string veth = inspect_network(r, "gone")["endpoints"][0]["host_link"];
    CHECK(link_exists(bridge));
    CHECK(link_exists(veth));
    CHECK(r.cli({"rm", "-f", "a", "b"}).code == 0);
    CHECK(!link_exists(veth));
    CHECK(r.cli({"network", "rm", "gone"}).code == 0);
    CHECK(!link_exists(bridge));
    CHECK(r.cli({"system", "stop", "--all"}).code == 0);
    CHECK(!link_exists(default_bridge));
    CHECK(fs::is_empty(r.path() / "run/container/netns"));
    CHECK(r.release_network_leftovers() == 0);  // no state, no table
}

TEST_CASE("a container whose namespace was lost (a reboot empties /run) gets it back at start, with its address" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"network", "create", "boot"}).code == 0);
    REQUIRE(r.cli({"create", "--name", "later", "--network", "boot", network_busybox().image, "sh", "-c", "ip -o -4 addr show eth0"}).code == 0);
    auto before = inspect_network(r, "boot")["endpoints"][0];
    std::string id = json::parse(r.cli({"inspect", "later"}).out)[0]["id"];
    REQUIRE(ctr::sys::remove_netns(r.path() / "run/container/netns" / id));
    // The kernel dismantles a namespace in the background: its veth goes soon after.
    for (int i = 0; i < 100 && link_exists(before["host_link"]); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(!link_exists(before["host_link"]));
    auto started = r.cli({"start", "later"});
    CHECK_MESSAGE(started.code == 0, started.err);
    CHECK(r.cli({"wait", "later"}).code == 0);
    CHECK(r.cli({"logs", "later"}).out.find("inet " + before["ip"].get<std::string>() + "/24") != std::string::npos);
    // Ended, it holds no endpoint: its address went back at its exit.
    CHECK(inspect_network(r, "boot")["endpoints"].empty());
    CHECK(r.cli({"rm", "later"}).code == 0);
}

TEST_CASE("network connect and disconnect: a running container gains and loses an interface and its names; a stopped one at its next start" *
          CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"network", "create", "red"}).code == 0);
    REQUIRE(r.cli({"network", "create", "blue"}).code == 0);
    auto web = web_server("hello-blue");
    std::vector<std::string> args = {"run", "-d", "--name", "blue-web", "--network", "blue", network_busybox().image};
    args.insert(args.end(), web.begin(), web.end());
    REQUIRE(r.cli(args).code == 0);
    REQUIRE(r.cli({"run", "-d", "--name", "app", "--network", "red", network_busybox().image, "sleep", "300"}).code == 0);
    const std::vector<std::string> fetch = {"exec", "app", "sh", "-c", "timeout 3 wget -q -O - http://blue-web/"};
    CHECK(r.cli(fetch).code != 0);

    auto connect = r.cli({"network", "connect", "--alias", "api", "blue", "app"});
    CHECK_MESSAGE(connect.code == 0, connect.err);
    CHECK(connect.out.empty());
    CHECK(r.cli({"exec", "app", "ls", "/sys/class/net"}).out == "eth0\neth1\nlo\n");
    CHECK(r.cli(fetch).out == "hello-blue\n");
    // Its names on blue: its own and the alias.
    CHECK(r.cli({"run", "--rm", "--network", "blue", network_busybox().image, "nslookup", "api"}).code == 0);
    CHECK(r.cli({"run", "--rm", "--network", "blue", network_busybox().image, "nslookup", "app"}).code == 0);
    auto c = json::parse(r.cli({"inspect", "app"}).out)[0];
    CHECK(c["config"]["networks"] == json::array({"red", "blue"}));
    CHECK(inspect_network(r, "blue")["endpoints"].size() == 2);

    auto twice = r.cli({"network", "connect", "blue", "app"});
    CHECK(twice.code == 125);
    CHECK(twice.err == "container: container app is already connected to network \"blue\"\n");
    auto nowhere = r.cli({"network", "connect", "nosuch", "app"});
    CHECK(nowhere.code == 125);
    CHECK(nowhere.err.find("network \"nosuch\" not found") != std::string::npos);
    auto nobody = r.cli({"network", "connect", "blue", "nobody"});
    CHECK(nobody.code == 125);
    CHECK(nobody.err.find("no such container: nobody") != std::string::npos);
    REQUIRE(r.cli({"create", "--name", "alone", "--network", "none", network_busybox().image, "true"}).code == 0);
    auto none = r.cli({"network", "connect", "blue", "alone"});
    CHECK(none.code == 125);
    CHECK(none.err.find("runs with --network none") != std::string::npos);

    auto disconnect = r.cli({"network", "disconnect", "blue", "app"});
    CHECK_MESSAGE(disconnect.code == 0, disconnect.err);
    CHECK(r.cli({"exec", "app", "ls", "/sys/class/net"}).out == "eth0\nlo\n");
    CHECK(r.cli(fetch).code != 0);
    CHECK(inspect_network(r, "blue")["endpoints"].size() == 1);
    auto again = r.cli({"network", "disconnect", "blue", "app"});
    CHECK(again.code == 125);
    CHECK(again.err == "container: container app is not connected to network \"blue\"\n");

    // Stopped: the record changes now, the namespace at the next start.
    REQUIRE(r.cli({"stop", "-t", "0", "app"}).code == 0);
    CHECK(r.cli({"network", "connect", "blue", "app"}).code == 0);
    CHECK(r.cli({"network", "disconnect", "red", "app"}).code == 0);
    auto started = r.cli({"start", "app"});
    REQUIRE_MESSAGE(started.code == 0, started.err);
    CHECK(r.cli({"exec", "app", "ls", "/sys/class/net"}).out == "eth1\nlo\n");
    CHECK(r.cli(fetch).out == "hello-blue\n");
    auto busy = r.cli({"network", "rm", "blue"});
    CHECK(busy.code == 125);
    // Its first network gone while it runs: its nameserver and its own line
    // in /etc/hosts move to the next one.
    CHECK(r.cli({"network", "connect", "red", "app"}).code == 0);
    CHECK(r.cli({"network", "disconnect", "blue", "app"}).code == 0);
    const auto red = json::parse(r.cli({"inspect", "app"}).out)[0]["config"]["network_attachments"][0];
    CHECK(red["network"] == "red");
    CHECK(r.cli({"exec", "app", "cat", "/etc/resolv.conf"}).out == "nameserver " + red["gateway"].get<std::string>() + "\n");
    CHECK(r.cli({"exec", "app", "grep", "app", "/etc/hosts"}).out.rfind(red["ip"].get<std::string>() + "\t", 0) == 0);
    // ... and so does its default route (it went with blue's interface).
    auto routes = r.cli({"exec", "app", "cat", "/proc/net/route"}).out;
    CHECK_MESSAGE(routes.find(red["ifname"].get<std::string>() + "\t00000000\t") != std::string::npos, routes);
    CHECK(r.cli({"rm", "-f", "blue-web"}).code == 0);
    CHECK(r.cli({"network", "rm", "blue"}).code == 0);  // nobody asks for it now
    // Off every network: loopback alone, as docker leaves it.
    CHECK(r.cli({"network", "disconnect", "red", "app"}).code == 0);
    CHECK(r.cli({"exec", "app", "ls", "/sys/class/net"}).out == "lo\n");
    REQUIRE(r.cli({"restart", "-t", "0", "app"}).code == 0);
    CHECK(r.cli({"exec", "app", "ls", "/sys/class/net"}).out == "lo\n");
    CHECK(r.cli({"rm", "-f", "app", "alone"}).code == 0);
    CHECK(r.cli({"network", "rm", "red"}).code == 0);
}

TEST_CASE("--network container:NAME: the other's interfaces, address, name and resolver; the other must run; what cannot go with it is refused" *
          CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto web = web_server("shared");
    std::vector<std::string> args = {"run", "-d", "--name", "web", network_busybox().image};
    args.insert(args.end(), web.begin(), web.end());
    REQUIRE(r.cli(args).code == 0);
    const std::string id = json::parse(r.cli({"inspect", "web"}).out)[0]["id"];
    // Its server on 127.0.0.1: the same namespace, not a copy of it.
    std::string page;
    for (int i = 0; i < 50 && page != "shared\n"; ++i) {
        page = r.cli({"run", "--rm", "--network", "container:web", network_busybox().image, "sh", "-c", "timeout 2 wget -q -O - http://127.0.0.1/"}).out;
        if (page != "shared\n") std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(page == "shared\n");
    auto side = r.cli({"run", "--rm", "--network", "container:web", network_busybox().image, "sh", "-c", "hostname; ls /sys/class/net; cat /etc/resolv.conf"});
    CHECK_MESSAGE(side.code == 0, side.err);
    CHECK(side.out == id.substr(0, 12) + "\neth0\nlo\n" + r.cli({"exec", "web", "cat", "/etc/resolv.conf"}).out);
    CHECK(inspect_network(r, "default")["endpoints"].size() == 1);  // no endpoint of its own

    auto refused = [&](std::vector<std::string> more, const std::string& says) {
        std::vector<std::string> a = {"run", "--rm"};
        a.insert(a.end(), more.begin(), more.end());
        a.insert(a.end(), {network_busybox().image, "true"});
        auto res = r.cli(a);
        CHECK(res.code == 125);
        CHECK_MESSAGE(res.err.find(says) != std::string::npos, res.err);
    };
    refused({"--network", "container:nosuch"}, "no such container: nosuch");
    refused({"--network", "container:web", "-p", "8080:80"}, "--publish needs a network: not with --network container:web");
    refused({"--network", "container:web", "--hostname", "x"}, "--hostname");
    refused({"--network", "container:web", "--dns", "10.0.0.1"}, "not with --network container:web");
    refused({"--network", "container:web", "--network", "default"}, "cannot be combined with other networks");

    REQUIRE(r.cli({"create", "--name", "side", "--network", "container:web", network_busybox().image, "sleep", "300"}).code == 0);
    auto joining = r.cli({"network", "connect", "default", "side"});
    CHECK(joining.code == 125);
    CHECK(joining.err.find("runs with --network container:web") != std::string::npos);
    REQUIRE(r.cli({"stop", "-t", "0", "web"}).code == 0);
    auto alone = r.cli({"start", "side"});
    CHECK(alone.code == 125);
    CHECK_MESSAGE(alone.err.find("--network container:web: web is not running") != std::string::npos, alone.err);
    REQUIRE(r.cli({"start", "web"}).code == 0);
    auto started = r.cli({"start", "side"});
    CHECK_MESSAGE(started.code == 0, started.err);
    CHECK(r.cli({"exec", "side", "ls", "/sys/class/net"}).out == "eth0\nlo\n");
    CHECK(r.cli({"rm", "-f", "side", "web"}).code == 0);
    auto left = r.runtime_leftovers();  // rm -f returns once the runtime deleted both
    CHECK_MESSAGE(left.empty(), (left.empty() ? "" : left[0]));
}
