#include "compose/kube.hpp"

#include "compose/yaml_out.hpp"

#include <cmath>
#include <regex>

namespace ctr::compose {

using nlohmann::json;

namespace {

// Kubernetes names: lower case letters, digits and '-', at most 63.
std::string dns_name(std::string s) {
    for (auto& ch : s) {
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-') ch = '-';
    }
    while (!s.empty() && s.front() == '-') s.erase(s.begin());
    while (!s.empty() && s.back() == '-') s.pop_back();
    return s.substr(0, 63);
}

struct Port {
    int host = 0, container = 0;
    std::string protocol = "TCP";
};

// "[ip:]host:ctr/proto" or "ctr/proto", as the model writes them.
std::optional<Port> port_of(const std::string& spec) {
    static const std::regex re(R"(^(?:(?:\d+\.\d+\.\d+\.\d+|\[[0-9a-fA-F:]+\]):)?(?:(\d+):)?(\d+)(?:/(tcp|udp|sctp))?$)");
    std::smatch m;
    if (!std::regex_match(spec, m, re)) return std::nullopt;
    Port p;
    p.container = std::stoi(m[2].str());
    p.host = m[1].matched ? std::stoi(m[1].str()) : p.container;
    if (m[3].matched) {
        p.protocol = m[3].str();
        for (auto& ch : p.protocol) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    return p;
}

json probe_of(const json& hc) {
    json cmd = hc["test"][0] == "CMD-SHELL" ? json::array({"/bin/sh", "-c", hc["test"][1]}) : json(hc["test"]);
    if (hc["test"][0] == "CMD") cmd.erase(cmd.begin());
    json p = {{"exec", {{"command", cmd}}}};
    auto secs = [&hc](const char* k) { return static_cast<int64_t>(std::ceil(hc[k].get<double>())); };
    if (hc.contains("interval")) p["periodSeconds"] = secs("interval");
    if (hc.contains("timeout")) p["timeoutSeconds"] = secs("timeout");
    if (hc.contains("start_period")) p["initialDelaySeconds"] = secs("start_period");
    if (hc.contains("retries")) p["failureThreshold"] = hc["retries"];
    return p;
}

// The pod's containers[0] and volumes for one service.
json container_of(const std::string& name, const json& s, const std::string& project, const json& volumes_top, json& pod_volumes,
                  std::vector<std::string>& warnings) {
    json c = {{"name", dns_name(name)}, {"image", s.value("image", "")}};
    if (s.contains("entrypoint")) c["command"] = s["entrypoint"];
    if (s.contains("command")) c["args"] = s["command"];
    if (s.contains("working_dir")) c["workingDir"] = s["working_dir"];
    if (s.contains("environment") && !s["environment"].empty()) c["envFrom"] = json::array({{{"configMapRef", {{"name", dns_name(name) + "-env"}}}}});
    for (const auto& spec : s.value("ports", json::array())) {
        if (auto p = port_of(spec.get<std::string>())) c["ports"].push_back({{"containerPort", p->container}, {"protocol", p->protocol}});
        else warnings.push_back("service " + name + ": port \"" + spec.get<std::string>() + "\" left out (a range?)");
    }
    int n = 0;
    for (const auto& v : s.value("volumes", json::array())) {
        const std::string vol = "vol" + std::to_string(n++);
        const std::string type = v.value("type", "volume");
        c["volumeMounts"].push_back({{"name", vol}, {"mountPath", v.value("target", "")}, {"readOnly", v.value("read_only", false)}});
        if (type == "bind") {
            pod_volumes.push_back({{"name", vol}, {"hostPath", {{"path", v.value("source", "")}}}});
        } else if (type == "tmpfs") {
            pod_volumes.push_back({{"name", vol}, {"emptyDir", {{"medium", "Memory"}}}});
        } else if (v.value("source", "").empty()) {
            pod_volumes.push_back({{"name", vol}, {"emptyDir", json::object()}});  // anonymous: the pod's own
        } else {
            const std::string src = v["source"];
            const std::string claim = volumes_top.contains(src) ? volumes_top[src].value("name", project + "_" + src) : src;
            pod_volumes.push_back({{"name", vol}, {"persistentVolumeClaim", {{"claimName", dns_name(claim)}}}});
        }
    }
    if (s.contains("healthcheck")) c["livenessProbe"] = probe_of(s["healthcheck"]);
    if (s.contains("cpus")) c["resources"]["limits"]["cpu"] = std::to_string(std::llround(s["cpus"].get<double>() * 1000)) + "m";
    if (s.contains("memory")) c["resources"]["limits"]["memory"] = std::to_string(s["memory"].get<int64_t>());
    if (s.value("privileged", false)) c["securityContext"]["privileged"] = true;
    if (s.contains("cap_add")) c["securityContext"]["capabilities"]["add"] = s["cap_add"];
    if (s.contains("cap_drop")) c["securityContext"]["capabilities"]["drop"] = s["cap_drop"];
    if (s.value("read_only", false)) c["securityContext"]["readOnlyRootFilesystem"] = true;
    if (s.value("tty", false)) c["tty"] = true;
    if (s.value("stdin_open", false)) c["stdin"] = true;
    for (const char* k : {"user", "dns", "extra_hosts", "sysctls", "devices", "ulimits", "security_opt", "cgroup", "network_mode", "init", "shm_size", "pids_limit"})
        if (s.contains(k)) warnings.push_back("service " + name + ": " + k + " has no place in the generated YAML");
    return c;
}

}  // namespace

json container_model(const json& config, const std::string& name, const std::string& default_runtime) {
    json s = {{"image", config.value("image", "")}};
    auto list = [&config](const char* k) { return config.contains(k) && config[k].is_array() ? config[k] : json::array(); };
    if (!list("cmd").empty()) s["command"] = config["cmd"];
    if (!list("entrypoint").empty()) s["entrypoint"] = config["entrypoint"];
    for (const auto& e : list("env")) {
        const std::string kv = e.get<std::string>();
        auto eq = kv.find('=');
        s["environment"][kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    }
    if (!list("publish").empty()) s["ports"] = config["publish"];
    json volumes = json::object();
    for (const auto& v : list("volumes")) {
        // "SOURCE:TARGET[:ro]": a path is a bind, a name a volume, none anonymous.
        const std::string text = v.get<std::string>();
        std::vector<std::string> parts;
        for (size_t at = 0;;) {
            auto colon = text.find(':', at);
            parts.push_back(text.substr(at, colon == std::string::npos ? std::string::npos : colon - at));
            if (colon == std::string::npos) break;
            at = colon + 1;
        }
        json m = {{"type", "volume"}, {"read_only", parts.size() > 2 && parts[2] == "ro"}};
        m["target"] = parts.size() > 1 ? parts[1] : parts[0];
        if (parts.size() > 1) m["source"] = parts[0];
        if (parts.size() > 1 && parts[0].rfind('/', 0) == 0) m["type"] = "bind";
        else if (parts.size() > 1) volumes[parts[0]] = {{"name", parts[0]}};
        s["volumes"].push_back(m);
    }
    for (const auto& t : list("tmpfs")) {
        const std::string target = t.get<std::string>();
        s["volumes"].push_back({{"type", "tmpfs"}, {"target", target.substr(0, target.find(':'))}});
    }
    if (config.value("restart", "") != "") s["restart"] = config["restart"];
    if (config.value("workdir", "") != "") s["working_dir"] = config["workdir"];
    if (config.value("hostname", "") != "") s["hostname"] = config["hostname"];
    if (config.value("cpus", 0.0) > 0) s["cpus"] = config["cpus"];
    if (config.value("memory", int64_t{0}) > 0) s["memory"] = config["memory"];
    for (const char* k : {"cap_add", "cap_drop"})
        if (!list(k).empty()) s[k] = config[k];
    for (const char* k : {"privileged", "read_only", "tty"})
        if (config.value(k, false)) s[k] = true;
    if (config.value("interactive", false)) s["stdin_open"] = true;
    if (const std::string rt = config.value("runtime", ""); !rt.empty() && rt != default_runtime) s["runtime"] = rt;
    if (config.value("user", "") != "") s["user"] = config["user"];
    return {{"name", name}, {"services", {{name, s}}}, {"volumes", volumes}};
}

Result<std::string> kube_yaml(const json& model, const KubeOptions& options, std::vector<std::string>& warnings) {
    const std::string project = model.value("name", "project");
    const json volumes_top = model.value("volumes", json::object());
    std::vector<json> docs;
    for (auto it = volumes_top.begin(); it != volumes_top.end(); ++it) {
        if (it.value().value("external", false)) continue;
        docs.push_back({{"apiVersion", "v1"},
                        {"kind", "PersistentVolumeClaim"},
                        {"metadata", {{"name", dns_name(it.value().value("name", project + "_" + it.key()))}, {"labels", {{"io.container.project", project}}}}},
                        {"spec", {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", options.volume_size}}}}}}}});
    }
    const json services = model.value("services", json::object());
    for (auto it = services.begin(); it != services.end(); ++it) {
        const std::string name = it.key(), app = dns_name(name);
        const json& s = it.value();
        if (!s.contains("image") || s["image"].get<std::string>().empty())
            return make_error(CTR_E_INVALID_ARGUMENT, "service " + name + ": no image (build it and set image: first)");
        const json labels = {{"app", app}, {"io.container.project", project}};
        if (s.contains("environment") && !s["environment"].empty()) {
            json data = json::object();
            for (auto e = s["environment"].begin(); e != s["environment"].end(); ++e) data[e.key()] = e.value().is_string() ? e.value() : json(e.value().dump());
            docs.push_back({{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", app + "-env"}, {"labels", labels}}}, {"data", data}});
        }
        json volumes = json::array();
        json pod = {{"containers", json::array({container_of(name, s, project, volumes_top, volumes, warnings)})}};
        if (!volumes.empty()) pod["volumes"] = volumes;
        // The handler `system oci-config` names: container-NAME for runtime-NAME.
        if (s.contains("runtime")) {
            std::string rt = s["runtime"];
            pod["runtimeClassName"] = "container-" + dns_name(rt.rfind("runtime-", 0) == 0 ? rt.substr(8) : rt);
        }
        if (s.contains("hostname")) pod["hostname"] = s["hostname"];
        if (s.contains("stop_grace_period")) pod["terminationGracePeriodSeconds"] = static_cast<int64_t>(std::ceil(s["stop_grace_period"].get<double>()));
        const std::string restart = s.value("restart", "no");
        if (restart == "no" || restart.rfind("on-failure", 0) == 0) {
            // A Deployment's pods always restart: what must not is a Pod.
            pod["restartPolicy"] = restart == "no" ? "Never" : "OnFailure";
            docs.push_back({{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", app}, {"labels", labels}}}, {"spec", pod}});
        } else {
            json spec = {{"replicas", 1}};
            spec["selector"]["matchLabels"]["app"] = app;
            spec["template"] = {{"metadata", {{"labels", labels}}}, {"spec", pod}};
            docs.push_back({{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", app}, {"labels", labels}}}, {"spec", spec}});
        }
        json ports = json::array();
        for (const auto& spec : s.value("ports", json::array()))
            if (auto p = port_of(spec.get<std::string>()))
                ports.push_back({{"name", dns_name(std::to_string(p->host) + "-" + p->protocol)}, {"port", p->host}, {"targetPort", p->container}, {"protocol", p->protocol}});
        if (!ports.empty())
            docs.push_back({{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", app}, {"labels", labels}}}, {"spec", {{"selector", {{"app", app}}}, {"ports", ports}}}});
    }
    std::string text;
    for (const auto& d : docs) text += (text.empty() ? "" : "---\n") + to_yaml(d);
    return text;
}

}  // namespace ctr::compose
