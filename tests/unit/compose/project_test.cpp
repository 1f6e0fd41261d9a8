// Loading Compose files: the model, merging, and the errors bad files give.
#include "compose/plan.hpp"
#include "compose/project.hpp"
#include <ctr/sys/files.hpp>
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

using namespace ctr::compose;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Files {
    ctr::test::ScratchDir dir;
    void write(const std::string& name, const std::string& text) { REQUIRE(ctr::sys::write_file_atomic(dir.path() / name, text)); }
    ctr::Result<Project> load(std::vector<std::string> files = {}, std::map<std::string, std::string> env = {}) {
        LoadOptions o;
        o.files = std::move(files);
        o.working_dir = dir.path();
        o.environment = [env](const std::string& k) -> std::optional<std::string> {
            auto it = env.find(k);
            if (it == env.end()) return std::nullopt;
            return it->second;
        };
        return ctr::compose::load(o);
    }
    std::string error_of(const std::string& text) {
        write("compose.yaml", text);
        auto p = load();
        REQUIRE_FALSE(p);
        return p.error().message;
    }
};

}  // namespace

TEST_CASE("a project: services normalized, names prefixed, .env and environment") {
    Files f;
    f.write(".env", "TAG=1.2\nPORT=8080\n");
    f.write("app.env", "FROM_FILE=yes\nOVERRIDDEN=file\n");
    f.write("compose.yaml", R"(
services:
  web:
    image: "registry.local/web:${TAG}"
    command: sh -c "echo 'hi there'"
    ports: ["127.0.0.1:${PORT}:80", {target: 53, published: 5353, protocol: udp}, "9000"]
    volumes: [data:/data:ro, ./site:/site, /scratch, {type: tmpfs, target: /run/t, tmpfs: {size: 1m}}]
    env_file: app.env
    environment:
      OVERRIDDEN: env
      LIST: "a b"
    labels: [tier=front]
    networks:
      front:
        aliases: [www]
    healthcheck:
      test: curl -f http://localhost/
      interval: 1m30s
      retries: 5
    deploy:
      resources:
        limits: {cpus: "0.5", memory: 256M}
    stop_grace_period: 2.5s
    restart: unless-stopped
    x-container-runtime: example
  db:
    image: db:1
    depends_on: [web]
networks:
  front: {}
volumes:
  data:
)");
    auto p = f.load({}, {{"PORT", "9090"}});  // the caller's environment wins over .env
    REQUIRE(p);
    CHECK(p->name == normalize_project_name(f.dir.path().filename().string()));
    const json& web = p->model["services"]["web"];
    CHECK(web["image"] == "registry.local/web:1.2");
    CHECK(web["command"] == json({"sh", "-c", "echo 'hi there'"}));
    CHECK(web["ports"] == json({"127.0.0.1:9090:80", "5353:53/udp", "9000"}));
    CHECK(web["environment"] == json({{"FROM_FILE", "yes"}, {"OVERRIDDEN", "env"}, {"LIST", "a b"}}));
    CHECK(web["labels"]["tier"] == "front");
    CHECK(web["volumes"][0] == json({{"type", "volume"}, {"source", "data"}, {"target", "/data"}, {"read_only", true}}));
    CHECK(web["volumes"][1]["source"] == (f.dir.path() / "site").string());
    CHECK(web["volumes"][2]["source"] == "");
    CHECK(web["healthcheck"]["interval"] == 90.0);
    CHECK(web["healthcheck"]["test"] == json({"CMD-SHELL", "curl -f http://localhost/"}));
    CHECK(web["cpus"] == 0.5);
    CHECK(web["memory"] == 256 * 1024 * 1024);
    CHECK(web["runtime"] == "example");
    CHECK(p->model["networks"]["front"]["name"] == p->name + "_front");
    CHECK(p->model["volumes"]["data"]["name"] == p->name + "_data");
    CHECK(p->model["services"]["db"]["networks"].contains("default"));
    CHECK(p->model["networks"]["default"]["name"] == p->name + "_default");

    // The create body: our API's fields, the project's labels and a hash that follows the config.
    json body = create_body(*p, "web");
    CHECK(body["name"] == p->name + "-web-1");
    CHECK(body["volumes"] == json({p->name + "_data:/data:ro", (f.dir.path() / "site").string() + ":/site", "/scratch"}));
    CHECK(body["tmpfs"] == json({"/run/t:size=1048576"}));
    CHECK(body["networks"] == json({p->name + "_front"}));
    CHECK(body["network_aliases"] == json({"web", "www"}));
    CHECK(body["stop_timeout"] == 3);
    CHECK(body["labels"][kProjectLabel] == p->name);
    CHECK(body["labels"][kServiceLabel] == "web");
    std::string hash = body["labels"][kHashLabel];
    CHECK(create_body(*p, "web")["labels"][kHashLabel] == hash);
    auto changed = f.load({}, {{"PORT", "9091"}});
    REQUIRE(changed);
    CHECK(create_body(*changed, "web")["labels"][kHashLabel] != hash);
    CHECK(create_body(*changed, "db")["labels"][kHashLabel] == create_body(*p, "db")["labels"][kHashLabel]);

    auto order = start_order(*p, {"db"});
    REQUIRE(order);
    CHECK(*order == std::vector<std::string>{"web", "db"});
    CHECK_FALSE(start_order(*p, {"nope"}));
}

TEST_CASE("several files merge in order; -p and name: set the project") {
    Files f;
    f.write("a.yaml", "name: First\nservices:\n  s:\n    image: a\n    environment: [A=1, B=1]\n    ports: ['1:1']\n    command: [x]\n");
    f.write("b.yaml", "services:\n  s:\n    image: b\n    environment: {B: 2}\n    ports: ['2:2']\n    command: [y, z]\n");
    auto p = f.load({"a.yaml", "b.yaml"});
    REQUIRE(p);
    CHECK(p->name == "first");
    const json& s = p->model["services"]["s"];
    CHECK(s["image"] == "b");
    CHECK(s["environment"] == json({{"A", "1"}, {"B", "2"}}));
    CHECK(s["ports"] == json({"1:1", "2:2"}));  // ports add up
    CHECK(s["command"] == json({"y", "z"}));    // other lists are replaced
    LoadOptions o;
    o.files = {"a.yaml"};
    o.working_dir = f.dir.path();
    o.project_name = "Other Name";
    CHECK(load(o)->name == "othername");
}

TEST_CASE("bad files name the file, the line and the key") {
    Files f;
    std::string file = (f.dir.path() / "compose.yaml").string();
    CHECK(f.error_of("services:\n  web:\n    image: [unclosed\n") .find(file + ":4:") == 0);
    CHECK(f.error_of("services:\n  web:\n    image: x\n    imagee: y\n") == file + ":4: services.web.imagee: unknown key");
    CHECK(f.error_of("services:\n  web:\n    image: x\n    build:\n      ssh: [default]\n") == file + ":5: services.web.build.ssh: not supported (context, dockerfile, args, target and labels are)");
    CHECK(f.error_of("services:\n  web:\n    command: x\n") == file + ":3: service web: image or build is required");
    CHECK(f.error_of("services:\n  web:\n    image: x\n    healthcheck:\n      tst: [CMD, x]\n") ==
          file + ":5: services.web.healthcheck.tst: unknown key");
    CHECK(f.error_of("services:\n  a:\n    image: x\n    depends_on: [b]\n") ==
          file + ":4: service a: depends_on names an unknown service \"b\"");
    CHECK(f.error_of("services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n")
              .find("dependency cycle: a -> b -> a") != std::string::npos);
    CHECK(f.error_of("services:\n  a:\n    image: x\n    volumes: [undeclared:/d]\n") ==
          file + ":4: services.a.volumes.0: volume \"undeclared\" is not declared in the top-level volumes");
    CHECK(f.error_of("services:\n  a:\n    image: x\n    networks: [back]\n").find("network \"back\" is not declared") != std::string::npos);
    CHECK(f.error_of("services:\n  a:\n    command: x\n").find("service a: image or build is required") != std::string::npos);
    CHECK(f.error_of("services:\n  a:\n    image: ${NEED:?please}\n") == file + ":3: services.a.image: required variable NEED is missing a value: please");
    CHECK(f.error_of("services:\n  a:\n    image: x\n    stop_grace_period: soon\n").find("invalid duration \"soon\"") != std::string::npos);
    CHECK(f.error_of("services:\n  a:\n    image: x\n    restart: sometimes\n").find("services.a.restart") != std::string::npos);
    CHECK(f.error_of("services:\n  a:\n    image: x\n    deploy:\n      replicas: 3\n").find("only 1 is supported") != std::string::npos);
    CHECK(f.error_of("services:\n  a:\n    image: x\n  a:\n    image: y\n").find("duplicate key \"a\"") != std::string::npos);
    // Keys that only tune are read with a warning, never silently.
    f.write("compose.yaml", "services:\n  a:\n    image: x\n    cpu_quota: 50000\n");
    auto p = f.load();
    REQUIRE(p);
    REQUIRE(p->warnings.size() == 1);
    CHECK(p->warnings[0] == file + ":4: services.a.cpu_quota: ignored (it only tunes behaviour)");
    auto none = Files().load();
    REQUIRE_FALSE(none);
    CHECK(none.error().message.find("no compose file") == 0);
}

TEST_CASE("security_opt: a seccomp profile's file is read from the project's folder into the request; a missing one is named") {
    Files f;
    f.write("profile.json", R"({"defaultAction": "SCMP_ACT_ALLOW"})");
    f.write("compose.yaml", "services:\n  a:\n    image: x\n    security_opt: [\"seccomp:profile.json\", no-new-privileges:true, label=disable]\n");
    auto p = f.load();
    REQUIRE(p);
    const json opts = p->model["services"]["a"]["security_opt"];
    REQUIRE(opts.size() == 3);
    CHECK(opts[0] == R"(seccomp={"defaultAction": "SCMP_ACT_ALLOW"})");
    CHECK(opts[1] == "no-new-privileges:true");
    CHECK(opts[2] == "label=disable");
    CHECK(create_body(*p, "a")["security_opt"] == opts);  // what `up` sends to create
    std::string file = (f.dir.path() / "compose.yaml").string();
    CHECK(f.error_of("services:\n  a:\n    image: x\n    security_opt: [seccomp=missing.json]\n")
              .find(file + ":4: services.a.security_opt: cannot read the seccomp profile \"" + (f.dir.path() / "missing.json").string()) == 0);
}

TEST_CASE("logging: driver and options reach the create request as strings, for the daemon to check") {
    Files f;
    f.write("compose.yaml", "services:\n  a:\n    image: x\n    logging:\n      driver: json-file\n      options: {max-size: 10m, max-file: 3}\n"
                            "  b:\n    image: x\n");
    auto p = f.load();
    REQUIRE(p);
    CHECK(p->warnings.empty());
    json a = create_body(*p, "a");
    CHECK(a["log_driver"] == "json-file");
    CHECK(a["log_opts"] == json{{"max-file", "3"}, {"max-size", "10m"}});
    CHECK_FALSE(create_body(*p, "b").contains("log_opts"));
    std::string file = (f.dir.path() / "compose.yaml").string();
    CHECK(f.error_of("services:\n  a:\n    image: x\n    logging: json-file\n").find(file + ":4: services.a.logging: must be a mapping") == 0);
}

TEST_CASE("privileged, devices (short and long), sysctls (list and mapping) and cgroup reach the create request") {
    Files f;
    f.write("compose.yaml", R"(
services:
  a:
    image: x
    privileged: true
    devices: ["/dev/fuse", {source: /dev/zero, target: /dev/z, permissions: r}]
    sysctls: {net.core.somaxconn: 1024}
    cgroup: private
  b:
    image: x
    sysctls: [kernel.shmmni=1000]
)");
    auto p = f.load();
    REQUIRE_MESSAGE(p, (p ? "" : p.error().message));
    auto a = create_body(*p, "a");
    CHECK(a["privileged"] == true);
    CHECK(a["devices"] == json::array({"/dev/fuse", "/dev/zero:/dev/z:r"}));
    CHECK(a["sysctls"] == json::array({"net.core.somaxconn=1024"}));
    CHECK(a["cgroupns"] == "private");
    CHECK(create_body(*p, "b")["sysctls"] == json::array({"kernel.shmmni=1000"}));
    std::string file = (f.dir.path() / "compose.yaml").string();
    CHECK(f.error_of("services:\n  a:\n    image: x\n    cgroup: shared\n") == file + ":4: services.a.cgroup: want host or private, not \"shared\"");
    CHECK(f.error_of("services:\n  a:\n    image: x\n    devices: [3]\n").find("services.a.devices.0: want") != std::string::npos);
}

TEST_CASE("network_mode service:NAME joins that service's container, which starts first; container:NAME as it is") {
    Files f;
    f.write("compose.yaml",
            "name: p\nservices:\n  web:\n    image: x\n  side:\n    image: x\n    network_mode: service:web\n"
            "  other:\n    image: x\n    network_mode: container:elsewhere\n");
    auto p = f.load();
    REQUIRE_MESSAGE(p, p.error().message);
    CHECK(create_body(*p, "side")["networks"] == json::array({"container:p-web-1"}));
    CHECK(p->model["services"]["side"]["depends_on"].contains("web"));
    CHECK(create_body(*p, "other")["networks"] == json::array({"container:elsewhere"}));
    CHECK(f.error_of("services:\n  a:\n    image: x\n    network_mode: service:nope\n").find("unknown service \"nope\"") != std::string::npos);
    CHECK(f.error_of("services:\n  a:\n    image: x\n    network_mode: pod\n").find("\"pod\" is not supported") != std::string::npos);
}
