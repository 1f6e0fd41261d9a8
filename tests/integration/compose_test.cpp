// `container compose` end to end: a three-service application from a
// Compose file (a web server, a client that reaches it by name, a service
// with a health check the client waits for), reached from the host through a
// published port, changed and brought up again, brought down with nothing
// left; and bad files that change nothing.
#include "tests/support/ports.hpp"
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/unique_fd.hpp>

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <thread>

using ctr::test::DaemonRoot;
using ctr::test::ScratchDir;
using nlohmann::json;

namespace {

ctr::test::BusyboxRegistry& compose_busybox() {
    static ctr::test::BusyboxRegistry s("for a in httpd wget mkdir touch test timeout; do ln -s busybox bin/$a; done");
    return s;
}

int random_port() {
    std::random_device rd;
    return 20000 + static_cast<int>(rd() % 20000);
}

// web: serves $GREETING; ready: healthy after a second; client: fetches
// http://web/ by name once ready is healthy, every 300 ms.
std::string app_file(const std::string& image) {
    return R"(name: shop
services:
  web:
    image: )" + image + R"(
    command: ["sh", "-c", "mkdir -p /www && echo $${GREETING} > /www/index.html && exec httpd -f -p 80 -h /www"]
    init: true
    environment:
      GREETING: ${GREETING:-hello}
    ports:
      - "127.0.0.1:${WEB_PORT}:80"
    volumes:
      - state:/state
    networks: [front]
  ready:
    image: )" + image + R"(
    command: sh -c 'sleep 1; touch /tmp/ok; exec sleep 1000'
    init: true
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 500ms
      retries: 5
    networks: [front]
  client:
    image: )" + image + R"(
    depends_on:
      web: {condition: service_started}
      ready: {condition: service_healthy}
    command: ["sh", "-c", "while true; do timeout 2 wget -q -O - http://web/; sleep 0.3; done"]
    networks: [front]
    stop_signal: KILL
networks:
  front: {}
volumes:
  state: {}
)";
}

std::map<std::string, json> by_service(const DaemonRoot& r, const std::string& file) {
    auto ps = r.cli({"compose", "-f", file, "ps", "--format", "json"});
    REQUIRE(ps.code == 0);
    std::map<std::string, json> out;
    for (const auto& c : json::parse(ps.out)) out[c["service"]] = c;
    return out;
}

}  // namespace

TEST_CASE("compose up runs a three-service application; up again changes only what changed; down leaves nothing" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ScratchDir dir;
    const std::string file = (dir.path() / "compose.yaml").string();
    REQUIRE(ctr::sys::write_file_atomic(file, app_file(compose_busybox().image)));
    const int port = random_port();
    const std::vector<std::string> env = {"WEB_PORT=" + std::to_string(port)};

    auto up = r.cli({"compose", "-f", file, "up", "-d"}, env);
    REQUIRE(up.code == 0);
    CHECK(up.err.find("Created    network shop_front") != std::string::npos);
    CHECK(up.err.find("Waiting    shop-ready-1 (healthy)") != std::string::npos);
    auto first = by_service(r, file);
    REQUIRE(first.size() == 3);
    for (const auto& [svc, c] : first) CHECK(c["state"] == "running");
    CHECK(first["ready"]["health"] == "healthy");  // client started only after that
    CHECK(first["web"]["ports"] == "127.0.0.1:" + std::to_string(port) + "->80/tcp");

    // From the host, through the published port; between services, by name.
    std::string body;
    for (int i = 0; i < 50 && body.empty(); ++i) {
        body = ctr::test::http_get("127.0.0.1", port);
        if (body.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(body == "hello\n");
    std::string logs;
    for (int i = 0; i < 50 && logs.find("hello") == std::string::npos; ++i) {
        logs = r.cli({"compose", "-f", file, "logs", "client"}).out;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(logs.find("shop-client-1 | hello") != std::string::npos);
    CHECK(r.cli({"compose", "-f", file, "exec", "web", "cat", "/www/index.html"}).out == "hello\n");
    auto cfg = r.cli({"compose", "-f", file, "config", "--services"}, env);
    CHECK(cfg.out == "client\nready\nweb\n");

    // Unchanged: up keeps every container. A changed variable: only web is recreated.
    auto again = r.cli({"compose", "-f", file, "up", "-d"}, env);
    CHECK(again.code == 0);
    CHECK(by_service(r, file)["web"]["id"] == first["web"]["id"]);
    auto env2 = env;
    env2.push_back("GREETING=changed");
    auto changed = r.cli({"compose", "-f", file, "up", "-d"}, env2);
    REQUIRE(changed.code == 0);
    CHECK(changed.err.find("Recreated  shop-web-1") != std::string::npos);
    auto second = by_service(r, file);
    CHECK(second["web"]["id"] != first["web"]["id"]);
    CHECK(second["client"]["id"] == first["client"]["id"]);
    CHECK(second["ready"]["id"] == first["ready"]["id"]);
    // The new web is reached at once through the same port (10 s at most: a
    // stale ARP entry for a reused address would take half a minute to expire).
    body.clear();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (body != "changed\n" && std::chrono::steady_clock::now() < deadline) {
        body = ctr::test::http_get("127.0.0.1", port);
        if (body != "changed\n") std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(body == "changed\n");

    // stop, start: the same containers.
    CHECK(r.cli({"compose", "-f", file, "stop", "client"}).code == 0);
    CHECK(by_service(r, file)["client"]["state"] == "stopped");
    CHECK(r.cli({"compose", "-f", file, "start"}).code == 0);
    CHECK(by_service(r, file)["client"]["state"] == "running");

    // down -v: containers, the network and the volume go; nothing else was made.
    auto down = r.cli({"compose", "-f", file, "down", "-v"}, env);
    CHECK(down.code == 0);
    CHECK(r.cli({"ls", "-a", "-q"}).out.empty());
    CHECK(r.cli({"network", "ls", "-q"}).out.find("shop_front") == std::string::npos);
    CHECK(r.cli({"volume", "ls", "-q"}).out.empty());
    CHECK(by_service(r, file).empty());
}

TEST_CASE("compose: bad files and a taken port give clear errors and change nothing" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ScratchDir dir;
    auto write = [&](const std::string& text) {
        REQUIRE(ctr::sys::write_file_atomic(dir.path() / "compose.yaml", text));
        return (dir.path() / "compose.yaml").string();
    };
    auto nothing_made = [&] {
        CHECK(r.cli({"ls", "-a", "-q"}).out.empty());
        CHECK(r.cli({"network", "ls", "-q"}).out.find("bad_") == std::string::npos);
        CHECK(r.cli({"volume", "ls", "-q"}).out.empty());
    };
    std::string f = write("name: bad\nservices:\n  a:\n    image: x\n    command: [unclosed\n");
    auto syntax = r.cli({"compose", "-f", f, "up", "-d"});
    CHECK(syntax.code == 125);
    CHECK(syntax.err.find(f + ":6:") != std::string::npos);
    CHECK(syntax.err.find("YAML") != std::string::npos);

    f = write("name: bad\nservices:\n  a:\n    image: " + compose_busybox().image + "\n    depends_on: [db]\n");
    auto unknown = r.cli({"compose", "-f", f, "up", "-d"});
    CHECK(unknown.code == 125);
    CHECK(unknown.err == "container: " + f + ":5: service a: depends_on names an unknown service \"db\"\n");

    f = write("name: bad\nservices:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n");
    auto cycle = r.cli({"compose", "-f", f, "up", "-d"});
    CHECK(cycle.code == 125);
    CHECK(cycle.err.find("dependency cycle") != std::string::npos);

    f = write("name: bad\nservices:\n  a:\n    image: x\n    ipc: host\n");
    auto unsupported = r.cli({"compose", "-f", f, "config"});
    CHECK(unsupported.code == 125);
    CHECK(unsupported.err.find(f + ":5: services.a.ipc: not supported") != std::string::npos);

    // An external network must exist; nothing is made when it does not.
    f = write("name: bad\nservices:\n  a:\n    image: " + compose_busybox().image + "\n    networks: [outer]\n    volumes: [v:/v]\nnetworks:\n  outer:\n    external: true\nvolumes:\n  v:\n");
    auto external = r.cli({"compose", "-f", f, "up", "-d"});
    CHECK(external.code == 125);
    CHECK(external.err.find("network outer is declared external, but could not be found") != std::string::npos);
    nothing_made();

    // A port a host process listens on: refused before anything is made.
    const auto taken = ctr::test::hold_port();
    const int port = taken.port;
    f = write("name: bad\nservices:\n  a:\n    image: " + compose_busybox().image + "\n    command: [sleep, '100']\n    volumes: [v:/v]\n  b:\n    image: " +
              compose_busybox().image + "\n    ports: ['127.0.0.1:" + std::to_string(port) + ":80']\nvolumes:\n  v:\n");
    auto clash = r.cli({"compose", "-f", f, "up", "-d"});
    CHECK(clash.code == 125);
    CHECK(clash.err.find("service b: port 127.0.0.1:" + std::to_string(port) + "/tcp is already in use on the host") != std::string::npos);
    nothing_made();
    // down of a project that has nothing is not an error.
    CHECK(r.cli({"compose", "-p", "bad", "down"}).code == 0);
}

TEST_CASE("compose up in the foreground follows every service's output until they end" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ScratchDir dir;
    const std::string file = (dir.path() / "compose.yaml").string();
    REQUIRE(ctr::sys::write_file_atomic(file, "name: fg\nservices:\n  a:\n    image: " + compose_busybox().image +
                                                   "\n    command: [sh, -c, 'echo one; sleep 0.5; echo two']\n  b:\n    image: " +
                                                   compose_busybox().image + "\n    command: [sh, -c, 'echo oops >&2; exit 3']\n  c:\n    image: " +
                                                   compose_busybox().image + "\n    x-container-runtime: example\n    command: [echo, by-example]\n"));
    auto up = r.cli({"compose", "-f", file, "up"});
    CHECK(up.code == 0);
    // Lines come as they are printed: another service's may come between.
    CHECK(up.out.find("fg-a-1 | one\n") != std::string::npos);
    CHECK(up.out.find("fg-a-1 | one\n") < up.out.find("fg-a-1 | two\n"));
    CHECK(up.out.find("fg-a-1 | two\n") != std::string::npos);
    CHECK(up.err.find("fg-b-1 | oops") != std::string::npos);
    CHECK(up.out.find("fg-c-1 | by-example\n") != std::string::npos);  // x-container-runtime picked the example runtime
    CHECK(json::parse(r.cli({"inspect", "fg-c-1"}).out)[0]["runtime"] == "example");
    auto ps = json::parse(r.cli({"compose", "-f", file, "ps", "--format", "json"}).out);
    REQUIRE(ps.size() == 3);
    for (const auto& c : ps) CHECK(c["exit_code"] == (c["service"] == "b" ? 3 : 0));
    CHECK(r.cli({"compose", "-f", file, "down"}).code == 0);
    CHECK(r.cli({"ls", "-a", "-q"}).out.empty());
}

TEST_CASE("kube play runs what kube generate wrote: a Deployment reached by its Service's name and port; play again keeps, --replace remakes, --down removes" *
          CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ScratchDir dir;
    const int port = random_port();
    const std::string compose_file = (dir.path() / "compose.yaml").string(), yaml = (dir.path() / "app.yaml").string();
    REQUIRE(ctr::sys::write_file_atomic(compose_file, R"(name: shop
services:
  web:
    image: )" + compose_busybox().image + R"(
    command: ["sh", "-c", "mkdir -p /www && echo $${GREETING} > /www/index.html && exec httpd -f -p 80 -h /www"]
    restart: always
    environment: {GREETING: from-kube}
    ports: [")" + std::to_string(port) + R"(:80"]
    volumes: [state:/state]
volumes:
  state: {}
)"));
    auto generated = r.cli({"kube", "generate", "--compose", compose_file, "-o", yaml});
    REQUIRE_MESSAGE(generated.code == 0, generated.err);
    auto played = r.cli({"kube", "play", yaml});
    REQUIRE_MESSAGE(played.code == 0, played.err);
    auto ls = json::parse(r.cli({"ls", "-a", "--format", "json"}).out);
    REQUIRE(ls.size() == 1);
    CHECK(ls[0]["name"] == "web-1");
    CHECK(ls[0]["state"] == "running");
    const std::string first_id = ls[0]["id"];
    // From the host through the Service's port, and by the Service's name on the project's network.
    std::string body;
    for (int i = 0; i < 50 && body.empty(); ++i) {
        body = ctr::test::http_get("127.0.0.1", port);
        if (body.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(body == "from-kube\n");
    auto by_name = r.cli({"run", "--rm", "--network", "app_default", compose_busybox().image, "wget", "-q", "-O", "-", "http://web/"});
    CHECK_MESSAGE(by_name.out == "from-kube\n", by_name.err);
    CHECK(r.cli({"volume", "inspect", "shop-state"}).code == 0);  // the claim
    // Again: kept. --replace: made anew.
    REQUIRE(r.cli({"kube", "play", yaml}).code == 0);
    CHECK(json::parse(r.cli({"ls", "-a", "--format", "json"}).out)[0]["id"] == first_id);
    auto replaced = r.cli({"kube", "play", "--replace", yaml});
    REQUIRE_MESSAGE(replaced.code == 0, replaced.err);
    ls = json::parse(r.cli({"ls", "-a", "--format", "json"}).out);
    REQUIRE(ls.size() == 1);
    CHECK(ls[0]["id"] != first_id);
    // --down: the containers and the network go, the claim's volume stays.
    auto down = r.cli({"kube", "play", "--down", yaml});
    REQUIRE_MESSAGE(down.code == 0, down.err);
    CHECK(json::parse(r.cli({"ls", "-a", "--format", "json"}).out).empty());
    CHECK(r.cli({"network", "inspect", "app_default"}).code != 0);
    CHECK(r.cli({"volume", "inspect", "shop-state"}).code == 0);
    // A kind it does not run: one line naming it, nothing made.
    const std::string job = (dir.path() / "job.yaml").string();
    REQUIRE(ctr::sys::write_file_atomic(job, "apiVersion: batch/v1\nkind: Job\nmetadata: {name: once}\n"));
    auto refused = r.cli({"kube", "play", job});
    CHECK(refused.code == 125);
    CHECK(refused.err == "container: document 1: kind Job is not supported (Pod, Deployment, Service, ConfigMap, PersistentVolumeClaim)\n");
    CHECK(json::parse(r.cli({"ls", "-a", "--format", "json"}).out).empty());
    CHECK(r.cli({"network", "inspect", "job_default"}).code != 0);
}
