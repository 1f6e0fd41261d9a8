// Kubernetes YAML from a Compose project: which documents, and what each
// service's keys become. The YAML is read back with yaml-cpp.
#include "compose/kube.hpp"
#include "compose/project.hpp"
#include "tests/unit/compose/load_dir.hpp"
#include <ctr/sys/files.hpp>
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <map>

using namespace ctr::compose;
namespace fs = std::filesystem;

namespace {

// The documents by "Kind/name".
std::map<std::string, YAML::Node> documents(const std::string& text) {
    std::map<std::string, YAML::Node> out;
    for (const auto& doc : YAML::LoadAll(text)) out[doc["kind"].as<std::string>() + "/" + doc["metadata"]["name"].as<std::string>()] = doc;
    return out;
}

}  // namespace

TEST_CASE("kube generate: Deployments or Pods by restart policy, ConfigMaps, Services, claims, probes, limits, runtime class") {
    ctr::test::ScratchDir dir;
    REQUIRE(ctr::sys::write_file_atomic(dir.path() / ".env", "GREETING=hi\n"));
    REQUIRE(ctr::sys::write_file_atomic(dir.path() / "compose.yaml", R"(
name: shop
services:
  web:
    image: nginx:1
    restart: always
    ports: ["127.0.0.1:8080:80", "9000/udp", "8443:443"]
    environment: {MODE: prod, GREETING: "${GREETING}", PORT: "8080"}
    volumes: [data:/var/lib/data, /srv/static:/usr/share/static:ro, {type: tmpfs, target: /cache}]
    healthcheck: {test: ["CMD-SHELL", "wget -q -O- localhost"], interval: 10s, timeout: 2s, retries: 3, start_period: 5s}
    deploy: {resources: {limits: {cpus: "0.5", memory: 64m}}}
    x-container-runtime: microvm
    cap_add: [NET_ADMIN]
    sysctls: {net.core.somaxconn: "1024"}
  job:
    image: busybox
    command: ["sh", "-c", "echo done"]
    entrypoint: ["/bin/env"]
    working_dir: /work
volumes:
  data: {}
)"));
    auto project = ctr::test::load_dir(dir.path());
    REQUIRE_MESSAGE(project, (project ? "" : project.error().message));
    std::vector<std::string> warnings;
    auto yaml = kube_yaml(project->model, {}, warnings);
    REQUIRE(yaml);
    auto docs = documents(*yaml);
    CHECK(docs.size() == 5);  // claim, web's ConfigMap, Deployment and Service, job's Pod

    auto claim = docs["PersistentVolumeClaim/shop-data"];
    REQUIRE(claim);
    CHECK(claim["spec"]["resources"]["requests"]["storage"].as<std::string>() == "1Gi");

    auto env = docs["ConfigMap/web-env"];
    REQUIRE(env);
    CHECK(env["data"]["GREETING"].as<std::string>() == "hi");
    CHECK(env["data"]["PORT"].as<std::string>() == "8080");
    CHECK(env["data"]["PORT"].Tag() == "!");  // quoted: a ConfigMap's values are strings

    auto web = docs["Deployment/web"];
    REQUIRE(web);
    CHECK(web["apiVersion"].as<std::string>() == "apps/v1");
    CHECK(web["spec"]["selector"]["matchLabels"]["app"].as<std::string>() == "web");
    auto pod = web["spec"]["template"]["spec"];
    CHECK(pod["runtimeClassName"].as<std::string>() == "container-microvm");  // the handler system oci-config names
    auto c = pod["containers"][0];
    CHECK(c["image"].as<std::string>() == "nginx:1");
    CHECK(c["envFrom"][0]["configMapRef"]["name"].as<std::string>() == "web-env");
    CHECK(c["ports"][0]["containerPort"].as<int>() == 80);
    CHECK(c["ports"][1]["protocol"].as<std::string>() == "UDP");
    CHECK(c["livenessProbe"]["exec"]["command"][2].as<std::string>() == "wget -q -O- localhost");
    CHECK(c["livenessProbe"]["periodSeconds"].as<int>() == 10);
    CHECK(c["livenessProbe"]["failureThreshold"].as<int>() == 3);
    CHECK(c["livenessProbe"]["initialDelaySeconds"].as<int>() == 5);
    CHECK(c["resources"]["limits"]["memory"].as<std::string>() == std::to_string(64 << 20));
    CHECK(c["resources"]["limits"]["cpu"].as<std::string>() == "500m");
    CHECK(c["securityContext"]["capabilities"]["add"][0].as<std::string>() == "NET_ADMIN");
    CHECK(c["volumeMounts"].size() == 3);
    CHECK(pod["volumes"][0]["persistentVolumeClaim"]["claimName"].as<std::string>() == "shop-data");
    CHECK(pod["volumes"][1]["hostPath"]["path"].as<std::string>() == "/srv/static");
    CHECK(c["volumeMounts"][1]["readOnly"].as<bool>());
    CHECK(pod["volumes"][2]["emptyDir"]["medium"].as<std::string>() == "Memory");

    auto svc = docs["Service/web"];
    REQUIRE(svc);
    CHECK(svc["spec"]["ports"][0]["port"].as<int>() == 8080);
    CHECK(svc["spec"]["ports"][0]["targetPort"].as<int>() == 80);
    CHECK(svc["spec"]["ports"][2]["port"].as<int>() == 8443);  // no address: the host port is not one
    CHECK(svc["spec"]["ports"][2]["targetPort"].as<int>() == 443);
    CHECK(svc["spec"]["selector"]["app"].as<std::string>() == "web");

    auto job = docs["Pod/job"];  // restart "no": a Pod that is not restarted
    REQUIRE(job);
    CHECK(job["spec"]["restartPolicy"].as<std::string>() == "Never");
    CHECK(job["spec"]["containers"][0]["command"][0].as<std::string>() == "/bin/env");
    CHECK(job["spec"]["containers"][0]["args"][2].as<std::string>() == "echo done");
    CHECK(job["spec"]["containers"][0]["workingDir"].as<std::string>() == "/work");

    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0] == "service web: sysctls has no place in the generated YAML");
}

TEST_CASE("kube generate: a service without an image is an error naming it") {
    nlohmann::json model = {{"name", "p"}, {"services", {{"built", {{"build", {{"context", "."}}}}}}}};
    std::vector<std::string> warnings;
    auto yaml = kube_yaml(model, {}, warnings);
    REQUIRE_FALSE(yaml);
    CHECK(yaml.error().message == "service built: no image (build it and set image: first)");
}

TEST_CASE("kube generate from a container: its config as a one-service project") {
    nlohmann::json config = {{"image", "busybox:1"},
                             {"cmd", {"sleep", "100"}},
                             {"env", {"A=1", "EMPTY="}},
                             {"publish", {"127.0.0.1:18099:80"}},
                             {"volumes", {"data:/data", "/srv:/srv:ro", "/anon"}},
                             {"tmpfs", {"/run:size=1m"}},
                             {"restart", "always"},
                             {"memory", 67108864},
                             {"runtime", "runtime-microvm"},
                             {"workdir", ""}};
    std::vector<std::string> warnings;
    auto yaml = kube_yaml(container_model(config, "k1", "runtime-linux"), {}, warnings);
    REQUIRE(yaml);
    auto docs = documents(*yaml);
    CHECK(docs.count("PersistentVolumeClaim/data") == 1);
    CHECK(docs.count("ConfigMap/k1-env") == 1);
    CHECK(docs.count("Service/k1") == 1);
    auto pod = docs["Deployment/k1"]["spec"]["template"]["spec"];
    REQUIRE(pod);
    CHECK(pod["runtimeClassName"].as<std::string>() == "container-microvm");
    CHECK(pod["containers"][0]["args"][1].as<std::string>() == "100");
    CHECK(pod["volumes"].size() == 4);
    CHECK(pod["volumes"][1]["hostPath"]["path"].as<std::string>() == "/srv");
    CHECK(pod["volumes"][2]["emptyDir"].IsMap());
    CHECK(pod["volumes"][3]["emptyDir"]["medium"].as<std::string>() == "Memory");
    CHECK(pod["containers"][0]["volumeMounts"][3]["mountPath"].as<std::string>() == "/run");
    CHECK(docs["ConfigMap/k1-env"]["data"]["EMPTY"].as<std::string>() == "");
    CHECK(warnings.empty());

    // The daemon's default runtime needs no runtime class.
    config["runtime"] = "runtime-linux";
    auto plain = kube_yaml(container_model(config, "k1", "runtime-linux"), {}, warnings);
    REQUIRE(plain);
    CHECK_FALSE(static_cast<bool>(documents(*plain)["Deployment/k1"]["spec"]["template"]["spec"]["runtimeClassName"]));
}

