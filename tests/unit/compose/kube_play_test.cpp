// `kube play`'s reading of Kubernetes YAML into a Compose model: what each
// kind and field becomes, YAML from `kube generate` read back, and the
// errors that name the document, the object and the field.
#include "compose/kube.hpp"
#include "compose/kube_play.hpp"
#include "compose/project.hpp"
#include "tests/unit/compose/load_dir.hpp"
#include "compose/yaml_in.hpp"
#include <ctr/sys/files.hpp>
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace ctr::compose;
using nlohmann::json;

namespace {

ctr::Result<json> play(const std::string& yaml, std::vector<std::string>& warnings) {
    auto docs = yaml_documents(yaml, "app.yaml");
    if (!docs) return docs.error();
    return kube_play_model(*docs, "app", warnings);
}

std::string error_of(const std::string& yaml) {
    std::vector<std::string> warnings;
    auto m = play(yaml, warnings);
    return m ? std::string("(no error)") : m.error().message;
}

bool has(const json& list, const std::string& v) { return std::find(list.begin(), list.end(), json(v)) != list.end(); }

}  // namespace

TEST_CASE("kube play: a two-container Pod shares the first one's network; a Deployment is its replicas; a Service is their alias and publishes on the first") {
    std::vector<std::string> warnings;
    auto m = play(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {MODE: prod, PORT: "8080"}
---
apiVersion: v1
kind: Pod
metadata: {name: tools, labels: {role: tools}}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: [sh, -c]
    args: ["sleep 100"]
    envFrom: [{configMapRef: {name: settings}}]
    env:
    - {name: MODE, value: dev}
    - {name: ONE, valueFrom: {configMapKeyRef: {name: settings, key: PORT}}}
    - {name: NUM, value: 3}
    resources: {limits: {cpu: 500m, memory: 64Mi}}
    securityContext: {runAsUser: 1000, runAsGroup: 100, readOnlyRootFilesystem: true, capabilities: {add: [NET_ADMIN], drop: [ALL]}}
    livenessProbe: {exec: {command: [cat, /tmp/ok]}, periodSeconds: 5, failureThreshold: 2}
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: scratch, mountPath: /scratch}
    - {name: host, mountPath: /host, readOnly: true}
  - name: side
    image: busybox
    readinessProbe: {exec: {command: ["true"]}}
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data-claim}}
  - {name: scratch, emptyDir: {medium: Memory}}
  - {name: host, hostPath: {path: /srv/files}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-claim}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      runtimeClassName: container-microvm
      terminationGracePeriodSeconds: 3
      containers:
      - name: web
        image: nginx:1
        ports: [{name: http, containerPort: 80}]
        readinessProbe: {httpGet: {path: /, port: 80}}
---
apiVersion: v1
kind: Service
metadata: {name: front}
spec:
  selector: {app: web}
  ports:
  - {port: 8080, targetPort: http}
  - {port: 53, targetPort: 5353, protocol: UDP, nodePort: 30053}
)", warnings);
    REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
    const json& s = (*m)["services"];
    REQUIRE(s.size() == 4);
    // The pod's first container owns its network; the second joins it and starts after it.
    const json& main = s["tools-main"];
    CHECK(main["container_name"] == "tools-main");
    CHECK(main["hostname"] == "tools");
    CHECK(main["restart"] == "no");
    CHECK(main["entrypoint"] == json::array({"sh", "-c"}));
    CHECK(main["command"] == json::array({"sleep 100"}));
    CHECK(main["environment"] == json({{"MODE", "dev"}, {"PORT", "8080"}, {"ONE", "8080"}, {"NUM", "3"}}));
    CHECK(main["cpus"] == 0.5);
    CHECK(main["memory"] == 64 * 1024 * 1024);
    CHECK(main["user"] == "1000:100");
    CHECK(main["read_only"] == true);
    CHECK(main["cap_add"] == json::array({"NET_ADMIN"}));
    CHECK(main["cap_drop"] == json::array({"ALL"}));
    CHECK(main["healthcheck"]["test"] == json::array({"CMD", "cat", "/tmp/ok"}));
    CHECK(main["healthcheck"]["interval"] == 5.0);
    CHECK(main["healthcheck"]["retries"] == 2);
    CHECK(main["volumes"][0] == json({{"type", "volume"}, {"source", "data-claim"}, {"target", "/data"}, {"read_only", false}}));
    CHECK(main["volumes"][1]["type"] == "tmpfs");
    CHECK(main["volumes"][2] == json({{"type", "bind"}, {"source", "/srv/files"}, {"target", "/host"}, {"read_only", true}}));
    CHECK((*m)["volumes"]["data-claim"]["name"] == "data-claim");
    CHECK(main["networks"]["default"]["aliases"] == json::array({"tools"}));
    CHECK(main["labels"][kKubeKindLabel] == "Pod");
    CHECK(main["labels"]["role"] == "tools");
    const json& side = s["tools-side"];
    CHECK(side["network_mode"] == "service:tools-main");
    CHECK(side["depends_on"].contains("tools-main"));
    CHECK_FALSE(side.contains("networks"));
    // Replicas: web-1 and web-2, each reachable as itself and as the Service.
    for (const char* r : {"web-1", "web-2"}) {
        CAPTURE(r);
        REQUIRE(s.contains(r));
        CHECK(s[r]["restart"] == "always");
        CHECK(s[r]["runtime"] == "microvm");
        CHECK(s[r]["stop_grace_period"] == 3.0);
        CHECK(has(s[r]["networks"]["default"]["aliases"], r));
        CHECK(has(s[r]["networks"]["default"]["aliases"], "front"));
        CHECK(s[r]["labels"][kKubeNameLabel] == "web");
    }
    CHECK(s["web-1"]["ports"] == json::array({"8080:80/tcp", "30053:5353/udp"}));  // a named target port, and nodePort
    CHECK(s["web-2"]["ports"].empty());
    CHECK((*m)["networks"]["default"]["name"] == "app_default");
    auto warned = [&warnings](const std::string& part) {
        return std::any_of(warnings.begin(), warnings.end(), [&part](const std::string& w) { return w.find(part) != std::string::npos; });
    };
    CHECK(warned("Service front: its ports are published on web-1 only"));
    CHECK(warned("Pod tools: spec.containers[1].readinessProbe has no meaning on one host"));
    // Said once for the Deployment, not once per replica.
    CHECK(std::count(warnings.begin(), warnings.end(), "Deployment web: spec.containers[0].readinessProbe has no meaning on one host: ignored") == 1);
}

TEST_CASE("kube play: what kube generate writes plays back as the same services") {
    ctr::test::ScratchDir dir;
    REQUIRE(ctr::sys::write_file_atomic(dir.path() / "compose.yaml", R"(
name: store
services:
  job:
    command: ["sh", "-c", "echo done"]
    image: busybox
  api:
    environment: {MODE: prod}
    image: httpd:2
    ports: ["8080:80"]
    restart: unless-stopped
    volumes: [data:/var/lib/data]
volumes:
  data: {}
)"));
    auto project = ctr::test::load_dir(dir.path());
    REQUIRE(project);
    std::vector<std::string> warnings;
    auto yaml = kube_yaml(project->model, {}, warnings);
    REQUIRE(yaml);
    auto m = play(*yaml, warnings);
    REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
    const json& s = (*m)["services"];
    REQUIRE(s.contains("api-1"));
    REQUIRE(s.contains("job"));
    CHECK(s["api-1"]["image"] == "httpd:2");
    CHECK(s["api-1"]["ports"] == json::array({"8080:80/tcp"}));
    CHECK(s["api-1"]["environment"]["MODE"] == "prod");
    CHECK(s["api-1"]["volumes"][0]["source"] == "store-data");
    CHECK(has(s["api-1"]["networks"]["default"]["aliases"], "api"));  // the Service generate wrote for its ports
    CHECK(s["job"]["command"] == json::array({"sh", "-c", "echo done"}));
    CHECK(s["job"]["restart"] == "no");
}

TEST_CASE("kube play: unknown kinds and fields, bad names and missing references are errors naming the document, object and field") {
    const std::string pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: busybox\n";
    CHECK(error_of(pod + "    lifecycle2: {}\n") == "Pod p: spec.containers[0].lifecycle2: is not supported");
    CHECK(error_of("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n") ==
          "document 1: kind Job is not supported (Pod, Deployment, Service, ConfigMap, PersistentVolumeClaim)");
    CHECK(error_of("kind: Pod\nmetadata: {name: Bad_Name}\n").find("metadata.name \"Bad_Name\" must be a DNS name") != std::string::npos);
    CHECK(error_of(pod + "    env: [{name: X, valueFrom: {configMapKeyRef: {name: nope, key: K}}}]\n") ==
          "Pod p: spec.containers[0].env[0].valueFrom.configMapKeyRef: no key \"K\" in ConfigMap \"nope\"");
    CHECK(error_of(pod + "    volumeMounts: [{name: cfg, mountPath: /etc/cfg}]\n  volumes: [{name: cfg, configMap: {name: x}}]\n") ==
          "Pod p: volume cfg: only persistentVolumeClaim, hostPath and emptyDir are supported");
    CHECK(error_of(pod + "    resources: {limits: {memory: lots}}\n") ==
          "Pod p: spec.containers[0].resources.limits.memory: \"lots\" is not a memory quantity (64Mi, 1Gi, 500M)");
    CHECK(error_of(pod + "  runtimeClassName: gvisor\n").find("spec.runtimeClassName: \"gvisor\" is not one of ours") != std::string::npos);
    CHECK(error_of(pod + "  initContainers: []\n") == "Pod p: spec.initContainers: is not supported");
    CHECK(error_of("kind: Service\nmetadata: {name: s}\nspec: {selector: {a: b}}\n") == "no Pod or Deployment to run in the file");
    CHECK(error_of("kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n") == "Pod p: spec.containers[0].image: is required");
    CHECK(error_of("a: [\n").rfind("app.yaml:", 0) == 0);
    // Values of the wrong type: named where checked, one clear error anywhere else.
    CHECK(error_of(pod + "    tty: yes-please\n") == "Pod p: spec.containers[0].tty: must be true or false");
    CHECK(error_of(pod + "    livenessProbe: {exec: {command: [\"true\"]}, failureThreshold: many}\n") ==
          "Pod p: spec.containers[0].livenessProbe.failureThreshold: must be a whole number");
    CHECK(error_of(pod + "    volumeMounts: [{name: a, mountPath: /a}]\n  volumes: {a: b}\n").find("no volume \"a\"") != std::string::npos);
    CHECK(error_of(pod + "    envFrom: [{configMapRef: nope}]\n").rfind("a field of the YAML has the wrong type (", 0) == 0);
    CHECK(error_of(pod + "---\nkind: Service\nmetadata: {name: s}\nspec: {selector: {a: b}, ports: [{port: 80, nodePort: high}]}\n")
              .find("(no error)") != std::string::npos);  // its selector matches no pod: the ports are not read
}

TEST_CASE("kube play: CPU and memory quantities") {
    CHECK(*cpu_quantity(json("500m")) == 0.5);
    CHECK(*cpu_quantity(json("2")) == 2.0);
    CHECK(*cpu_quantity(json(1.5)) == 1.5);
    CHECK_FALSE(cpu_quantity(json("2 cores")));
    CHECK(*memory_quantity(json("64Mi")) == 67108864);
    CHECK(*memory_quantity(json("1G")) == 1000000000);
    CHECK(*memory_quantity(json("512Ki")) == 524288);
    CHECK(*memory_quantity(json(1048576)) == 1048576);
    CHECK_FALSE(memory_quantity(json("64MB")));
}
