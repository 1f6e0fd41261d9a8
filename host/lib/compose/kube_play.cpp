#include "compose/kube_play.hpp"

#include "compose/yaml_in.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

namespace ctr::compose {

using nlohmann::json;

namespace {

Error bad(const std::string& where, const std::string& why) { return make_error(CTR_E_INVALID_ARGUMENT, where + ": " + why); }

// Refuses a key of `obj` outside `known` and `ignored` (those: a warning);
// `where` names the object ("Pod web: spec").
Status check_keys(const json& obj, const std::string& where, std::initializer_list<const char*> known,
                  std::initializer_list<const char*> ignored, std::vector<std::string>& warnings) {
    if (!obj.is_object()) return bad(where, "must be a mapping");
    for (const auto& [k, v] : obj.items()) {
        bool ok = false;
        for (const char* n : known) ok = ok || k == n;
        if (ok) continue;
        bool skip = false;
        for (const char* n : ignored) skip = skip || k == n;
        if (skip) {
            warnings.push_back(where + "." + k + " has no meaning on one host: ignored");
            continue;
        }
        return bad(where + "." + k, "is not supported");
    }
    return ok();
}

Result<std::vector<std::string>> strings(const json& v, const std::string& where) {
    if (!v.is_array()) return bad(where, "must be a list of strings");
    std::vector<std::string> out;
    for (const auto& s : v) {
        if (!s.is_string() && !s.is_number()) return bad(where, "must be a list of strings");
        out.push_back(yaml_text(s));
    }
    return out;
}

// A boolean field of `obj` (false when absent); another type is an error naming it.
Result<bool> flag(const json& obj, const char* key, const std::string& where) {
    if (!obj.contains(key)) return false;
    if (!obj[key].is_boolean()) return bad(where + "." + key, "must be true or false");
    return obj[key].get<bool>();
}

Result<int64_t> whole(const json& obj, const char* key, int64_t fallback, const std::string& where) {
    if (!obj.contains(key)) return fallback;
    if (!obj[key].is_number_integer()) return bad(where + "." + key, "must be a whole number");
    return obj[key].get<int64_t>();
}

Result<double> seconds(const json& v, const std::string& where) {
    if (!v.is_number() || v.get<double>() < 0) return bad(where, "must be a number of seconds");
    return v.get<double>();
}

struct PodDef {
    std::string name;  // the pod's (a replica's: NAME-N)
    std::string kind, owner;  // Pod or Deployment, and its name
    json labels = json::object();
    json spec;
    std::string where;  // "Pod web", "Deployment web"
    std::vector<std::string> keys;  // its services, the first owns the network
};

struct Objects {
    std::map<std::string, json> config_maps;
    std::set<std::string> claims;
    std::vector<PodDef> pods;
    std::vector<std::pair<std::string, json>> services;  // name, spec
};

Result<json> env_of(const json& c, const std::string& where, const Objects& o) {
    json env = json::object();
    if (c.contains("envFrom")) {
        if (!c["envFrom"].is_array()) return bad(where + ".envFrom", "must be a list");
        for (size_t i = 0; i < c["envFrom"].size(); ++i) {
            const json& e = c["envFrom"][i];
            const std::string w = where + ".envFrom[" + std::to_string(i) + "]";
            if (!e.is_object() || !e.contains("configMapRef")) return bad(w, "only configMapRef is supported");
            const std::string name = e["configMapRef"].value("name", "");
            auto it = o.config_maps.find(name);
            if (it == o.config_maps.end()) return bad(w + ".configMapRef", "no ConfigMap \"" + name + "\" in the file");
            const std::string prefix = e.value("prefix", "");
            for (const auto& [k, v] : it->second.items()) env[prefix + k] = yaml_text(v);
        }
    }
    if (c.contains("env")) {
        if (!c["env"].is_array()) return bad(where + ".env", "must be a list");
        for (size_t i = 0; i < c["env"].size(); ++i) {
            const json& e = c["env"][i];
            const std::string w = where + ".env[" + std::to_string(i) + "]";
            if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) return bad(w, "needs a name");
            if (e.contains("valueFrom")) {
                const json& from = e["valueFrom"];
                if (!from.is_object() || !from.contains("configMapKeyRef"))
                    return bad(w + ".valueFrom", "only configMapKeyRef is supported");
                const std::string map = from["configMapKeyRef"].value("name", ""), key = from["configMapKeyRef"].value("key", "");
                auto it = o.config_maps.find(map);
                if (it == o.config_maps.end() || !it->second.contains(key))
                    return bad(w + ".valueFrom.configMapKeyRef", "no key \"" + key + "\" in ConfigMap \"" + map + "\"");
                env[e["name"].get<std::string>()] = yaml_text(it->second[key]);
            } else {
                env[e["name"].get<std::string>()] = yaml_text(e.value("value", json("")));
            }
        }
    }
    return env;
}

Result<json> probe_of(const json& p, const std::string& where) {
    if (!p.is_object() || !p.contains("exec")) return json(nullptr);
    json hc = {{"test", json::array({"CMD"})}};
    for (const auto& a : CTR_TRY(strings(p["exec"].value("command", json::array()), where + ".exec.command"))) hc["test"].push_back(a);
    if (hc["test"].size() < 2) return bad(where + ".exec.command", "is empty");
    hc["interval"] = p.contains("periodSeconds") ? CTR_TRY(seconds(p["periodSeconds"], where + ".periodSeconds")) : 10.0;
    hc["timeout"] = p.contains("timeoutSeconds") ? CTR_TRY(seconds(p["timeoutSeconds"], where + ".timeoutSeconds")) : 1.0;
    if (p.contains("initialDelaySeconds")) hc["start_period"] = CTR_TRY(seconds(p["initialDelaySeconds"], where + ".initialDelaySeconds"));
    hc["retries"] = CTR_TRY(whole(p, "failureThreshold", 3, where));
    return hc;
}

// A container's volumeMounts, each through the pod volume it names: a
// claim (a named volume, declared at the top), a hostPath (a bind), an
// emptyDir (anonymous, or a tmpfs in memory).
Result<json> mounts_of(const PodDef& pod, const json& c, const std::string& where, const json& pod_volumes, const Objects& o, json& top_volumes,
                       std::vector<std::string>& warnings) {
    json out = json::array();
    for (size_t i = 0; i < c.value("volumeMounts", json::array()).size(); ++i) {
        const json& m = c["volumeMounts"][i];
        const std::string w = where + ".volumeMounts[" + std::to_string(i) + "]";
        CTR_TRY_STATUS(check_keys(m, w, {"name", "mountPath", "readOnly"}, {}, warnings));
        const std::string name = m.value("name", ""), target = m.value("mountPath", "");
        if (target.empty() || target[0] != '/') return bad(w + ".mountPath", "must be an absolute path");
        const json* vol = nullptr;
        for (const auto& v : pod_volumes)
            if (v.is_object() && v.value("name", json()) == name) vol = &v;
        if (!vol) return bad(w + ".name", "no volume \"" + name + "\" in the pod's spec.volumes");
        json mount = {{"target", target}, {"read_only", CTR_TRY(flag(m, "readOnly", w))}};
        if (vol->contains("persistentVolumeClaim")) {
            const std::string claim = (*vol)["persistentVolumeClaim"].value("claimName", "");
            if (claim.empty()) return bad(pod.where + ": volume " + name, "persistentVolumeClaim.claimName is required");
            if (!o.claims.count(claim)) warnings.push_back(pod.where + ": claim \"" + claim + "\" is not in the file: a volume of that name is used");
            top_volumes[claim] = {{"name", claim}, {"external", false}, {"labels", json::object()}};
            mount.update({{"type", "volume"}, {"source", claim}});
        } else if (vol->contains("hostPath")) {
            const std::string path = (*vol)["hostPath"].value("path", "");
            if (path.empty() || path[0] != '/') return bad(pod.where + ": volume " + name, "hostPath.path must be an absolute path");
            mount.update({{"type", "bind"}, {"source", path}});
        } else if (vol->contains("emptyDir")) {
            const json& e = (*vol)["emptyDir"];
            const bool memory = e.is_object() && e.value("medium", "") == "Memory";
            mount.update({{"type", memory ? "tmpfs" : "volume"}, {"source", ""}});
        } else {
            return bad(pod.where + ": volume " + name, "only persistentVolumeClaim, hostPath and emptyDir are supported");
        }
        out.push_back(mount);
    }
    return out;
}

// One container of a pod as a Compose service.
Result<json> service_of(const PodDef& pod, const json& c, size_t index, const json& pod_volumes, const Objects& o, json& top_volumes,
                        std::vector<std::string>& warnings) {
    const std::string where = pod.where + ": spec.containers[" + std::to_string(index) + "]";
    CTR_TRY_STATUS(check_keys(c, where,
                              {"name", "image", "command", "args", "workingDir", "env", "envFrom", "ports", "volumeMounts", "resources",
                               "securityContext", "livenessProbe", "tty", "stdin", "stdinOnce", "imagePullPolicy", "terminationMessagePath",
                               "terminationMessagePolicy"},
                              {"readinessProbe", "startupProbe", "lifecycle"}, warnings));
    if (!c.contains("image") || !c["image"].is_string() || c["image"].get<std::string>().empty()) return bad(where + ".image", "is required");
    json s = {{"image", c["image"]}, {"labels", pod.labels}, {"ports", json::array()}, {"volumes", json::array()}, {"depends_on", json::object()}};
    s["labels"][kKubeKindLabel] = pod.kind;
    s["labels"][kKubeNameLabel] = pod.owner;
    if (c.contains("command")) s["entrypoint"] = CTR_TRY(strings(c["command"], where + ".command"));
    if (c.contains("args")) s["command"] = CTR_TRY(strings(c["args"], where + ".args"));
    if (c.contains("workingDir")) s["working_dir"] = yaml_text(c["workingDir"]);
    s["environment"] = CTR_TRY(env_of(c, where, o));
    if (CTR_TRY(flag(c, "tty", where))) s["tty"] = true;
    if (CTR_TRY(flag(c, "stdin", where))) s["stdin_open"] = true;
    s["volumes"] = CTR_TRY(mounts_of(pod, c, where, pod_volumes, o, top_volumes, warnings));
    if (c.contains("resources")) {
        const json& r = c["resources"];
        CTR_TRY_STATUS(check_keys(r, where + ".resources", {"limits", "requests"}, {}, warnings));
        const json limits = r.value("limits", json::object());
        if (limits.contains("cpu")) {
            auto cpus = cpu_quantity(limits["cpu"]);
            if (!cpus) return cpus.error().wrap(where + ".resources.limits.cpu");
            s["cpus"] = *cpus;
        }
        if (limits.contains("memory")) {
            auto bytes = memory_quantity(limits["memory"]);
            if (!bytes) return bytes.error().wrap(where + ".resources.limits.memory");
            s["memory"] = *bytes;
        }
    }
    json sc = pod.spec.value("securityContext", json::object());
    if (c.contains("securityContext")) sc.update(c["securityContext"]);
    if (!sc.empty()) {
        CTR_TRY_STATUS(check_keys(sc, where + ".securityContext",
                                  {"privileged", "capabilities", "readOnlyRootFilesystem", "runAsUser", "runAsGroup", "allowPrivilegeEscalation"},
                                  {"runAsNonRoot", "seccompProfile", "seLinuxOptions", "fsGroup", "supplementalGroups"}, warnings));
        if (CTR_TRY(flag(sc, "privileged", where + ".securityContext"))) s["privileged"] = true;
        if (CTR_TRY(flag(sc, "readOnlyRootFilesystem", where + ".securityContext"))) s["read_only"] = true;
        if (sc.contains("capabilities")) {
            if (sc["capabilities"].contains("add")) s["cap_add"] = CTR_TRY(strings(sc["capabilities"]["add"], where + ".securityContext.capabilities.add"));
            if (sc["capabilities"].contains("drop")) s["cap_drop"] = CTR_TRY(strings(sc["capabilities"]["drop"], where + ".securityContext.capabilities.drop"));
        }
        if (sc.contains("runAsUser")) s["user"] = yaml_text(sc["runAsUser"]) + (sc.contains("runAsGroup") ? ":" + yaml_text(sc["runAsGroup"]) : "");
    }
    if (c.contains("livenessProbe")) {
        json hc = CTR_TRY(probe_of(c["livenessProbe"], where + ".livenessProbe"));
        if (hc.is_null()) warnings.push_back(where + ".livenessProbe: only exec probes become health checks: left out");
        else s["healthcheck"] = hc;
    }
    return s;
}

Status read_object(const json& doc, size_t n, Objects& o, std::vector<std::string>& warnings) {
    const std::string where0 = "document " + std::to_string(n + 1);
    if (!doc.is_object()) return bad(where0, "must be a mapping");
    const std::string kind = doc.value("kind", "");
    const json meta = doc.value("metadata", json::object());
    const std::string name = meta.is_object() ? meta.value("name", "") : "";
    if (kind.empty()) return bad(where0, "kind is required");
    static const std::regex dns("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
    if (name.empty() || name.size() > 253 || !std::regex_match(name, dns))
        return bad(where0 + " (" + kind + ")", "metadata.name \"" + name + "\" must be a DNS name: lower case letters, digits, '-' and '.'");
    const std::string where = kind + " " + name;
    CTR_TRY_STATUS(check_keys(meta, where + ": metadata", {"name", "labels", "annotations", "namespace", "creationTimestamp"}, {}, warnings));
    if (kind == "ConfigMap") {
        CTR_TRY_STATUS(check_keys(doc, where, {"apiVersion", "kind", "metadata", "data", "immutable"}, {}, warnings));
        json data = doc.value("data", json::object());
        if (!data.is_object()) return bad(where + ": data", "must be a mapping");
        o.config_maps[name] = data;
        return ok();
    }
    if (kind == "PersistentVolumeClaim") {
        CTR_TRY_STATUS(check_keys(doc, where, {"apiVersion", "kind", "metadata", "spec", "status"}, {}, warnings));
        o.claims.insert(name);
        return ok();
    }
    if (kind == "Service") {
        CTR_TRY_STATUS(check_keys(doc, where, {"apiVersion", "kind", "metadata", "spec", "status"}, {}, warnings));
        const json spec = doc.value("spec", json::object());
        CTR_TRY_STATUS(check_keys(spec, where + ": spec", {"selector", "ports", "type", "clusterIP"}, {"sessionAffinity", "externalTrafficPolicy"}, warnings));
        o.services.emplace_back(name, spec);
        return ok();
    }
    PodDef pod;
    pod.kind = kind;
    pod.owner = name;
    pod.where = where;
    json pod_meta = meta;
    int64_t replicas = 1;
    if (kind == "Pod") {
        CTR_TRY_STATUS(check_keys(doc, where, {"apiVersion", "kind", "metadata", "spec", "status"}, {}, warnings));
        pod.spec = doc.value("spec", json::object());
    } else if (kind == "Deployment") {
        CTR_TRY_STATUS(check_keys(doc, where, {"apiVersion", "kind", "metadata", "spec", "status"}, {}, warnings));
        const json spec = doc.value("spec", json::object());
        CTR_TRY_STATUS(check_keys(spec, where + ": spec", {"replicas", "selector", "template"},
                                  {"strategy", "revisionHistoryLimit", "minReadySeconds", "progressDeadlineSeconds"}, warnings));
        if (spec.contains("replicas") && (!spec["replicas"].is_number_integer() || spec["replicas"].get<int64_t>() < 0 || spec["replicas"].get<int64_t>() > 100))
            return bad(where + ": spec.replicas", "must be a whole number from 0 to 100");
        replicas = spec.value("replicas", int64_t{1});
        const json tmpl = spec.value("template", json::object());
        CTR_TRY_STATUS(check_keys(tmpl, where + ": spec.template", {"metadata", "spec"}, {}, warnings));
        pod_meta = tmpl.value("metadata", json::object());
        pod.spec = tmpl.value("spec", json::object());
        const std::string policy = pod.spec.value("restartPolicy", "Always");
        if (policy != "Always") return bad(where + ": spec.template.spec.restartPolicy", "a Deployment's pods restart Always, not " + policy);
    } else {
        return bad(where0, "kind " + kind + " is not supported (Pod, Deployment, Service, ConfigMap, PersistentVolumeClaim)");
    }
    pod.labels = pod_meta.is_object() ? pod_meta.value("labels", json::object()) : json::object();
    if (!pod.labels.is_object()) return bad(where + ": labels", "must be a mapping");
    for (auto& [k, v] : pod.labels.items()) v = yaml_text(v);
    CTR_TRY_STATUS(check_keys(pod.spec, where + ": spec",
                              {"containers", "volumes", "restartPolicy", "hostname", "runtimeClassName", "terminationGracePeriodSeconds",
                               "securityContext"},
                              {"dnsPolicy", "nodeSelector", "nodeName", "serviceAccountName", "automountServiceAccountToken", "enableServiceLinks",
                               "schedulerName", "priorityClassName", "tolerations", "affinity"},
                              warnings));
    if (!pod.spec.contains("containers") || !pod.spec["containers"].is_array() || pod.spec["containers"].empty())
        return bad(where + ": spec.containers", "at least one container is required");
    for (int64_t i = 1; i <= replicas; ++i) {
        PodDef p = pod;
        p.name = kind == "Deployment" ? name + "-" + std::to_string(i) : name;
        o.pods.push_back(std::move(p));
    }
    return ok();
}

// A Service: its name an alias of every pod it selects; its ports
// published on the first of them (one host port reaches one container).
Status apply_service(const std::string& name, const json& spec, const Objects& o, json& services, std::vector<std::string>& warnings) {
    const json selector = spec.value("selector", json::object());
    std::vector<const PodDef*> chosen;
    for (const auto& pod : o.pods) {
        bool match = selector.is_object() && !selector.empty();
        for (const auto& [k, v] : selector.items()) match = match && pod.labels.value(k, "") == yaml_text(v);
        if (match) chosen.push_back(&pod);
    }
    if (chosen.empty()) {
        warnings.push_back("Service " + name + ": its selector matches no pod in the file");
        return ok();
    }
    for (const auto* pod : chosen) services[pod->keys[0]]["networks"]["default"]["aliases"].push_back(name);
    if (chosen.size() > 1)
        warnings.push_back("Service " + name + ": its ports are published on " + chosen[0]->name + " only (a host port serves one container)");
    const json ports = spec.value("ports", json::array());
    if (!ports.is_array()) return bad("Service " + name + ": spec.ports", "must be a list");
    for (size_t i = 0; i < ports.size(); ++i) {
        const json& p = ports[i];
        const std::string w = "Service " + name + ": spec.ports[" + std::to_string(i) + "]";
        CTR_TRY_STATUS(check_keys(p, w, {"name", "port", "targetPort", "protocol", "nodePort"}, {"appProtocol"}, warnings));
        if (!p.contains("port") || !p["port"].is_number_integer()) return bad(w + ".port", "is required (a number)");
        const int64_t host = CTR_TRY(whole(p, "nodePort", p["port"].get<int64_t>(), w));
        int64_t target = p["port"];
        if (p.contains("targetPort") && p["targetPort"].is_number_integer()) {
            target = p["targetPort"];
        } else if (p.contains("targetPort")) {
            // A named port of the pod's containers.
            target = 0;
            for (const auto& c : chosen[0]->spec["containers"])
                for (const auto& cp : c.value("ports", json::array()))
                    if (cp.is_object())
                    if (cp.value("name", "") == yaml_text(p["targetPort"])) target = cp.value("containerPort", int64_t{0});
            if (target == 0) return bad(w + ".targetPort", "no container port named \"" + yaml_text(p["targetPort"]) + "\"");
        }
        std::string proto = p.value("protocol", "TCP");
        for (auto& ch : proto) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        services[chosen[0]->keys[0]]["ports"].push_back(std::to_string(host) + ":" + std::to_string(target) + "/" + proto);
    }
    return ok();
}

}  // namespace

Result<double> cpu_quantity(const json& q) {
    if (q.is_number()) return q.get<double>();
    static const std::regex re("([0-9]+(?:\\.[0-9]+)?)(m?)");
    std::smatch m;
    const std::string s = q.is_string() ? q.get<std::string>() : "";
    if (!std::regex_match(s, m, re)) return make_error(CTR_E_INVALID_ARGUMENT, "\"" + s + "\" is not a CPU quantity (2, 0.5, 500m)");
    return std::stod(m[1].str()) / (m[2].matched && m[2].length() ? 1000.0 : 1.0);
}

Result<int64_t> memory_quantity(const json& q) {
    if (q.is_number_integer()) return q.get<int64_t>();
    static const std::regex re("([0-9]+(?:\\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?");
    std::smatch m;
    const std::string s = q.is_string() ? q.get<std::string>() : q.dump();
    if (!std::regex_match(s, m, re)) return make_error(CTR_E_INVALID_ARGUMENT, "\"" + s + "\" is not a memory quantity (64Mi, 1Gi, 500M)");
    static const std::map<std::string, double> unit = {{"", 1},         {"Ki", 1024.0},     {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
                                                       {"k", 1e3},      {"K", 1e3},         {"M", 1e6},        {"G", 1e9},           {"T", 1e12}};
    return static_cast<int64_t>(std::stod(m[1].str()) * unit.at(m[2].matched ? m[2].str() : ""));
}

namespace {

Result<json> model_of(const std::vector<json>& docs, const std::string& project, std::vector<std::string>& warnings) {
    Objects o;
    for (size_t i = 0; i < docs.size(); ++i) CTR_TRY_STATUS(read_object(docs[i], i, o, warnings));
    if (o.pods.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "no Pod or Deployment to run in the file");
    json model = {{"name", project}, {"services", json::object()}, {"volumes", json::object()},
                  {"networks", {{"default", {{"name", project + "_default"}, {"external", false}, {"internal", false}, {"labels", json::object()}}}}}};
    json& services = model["services"];
    std::set<std::string> taken;
    for (auto& pod : o.pods) {
        const json& containers = pod.spec["containers"];
        const json volumes = pod.spec.value("volumes", json::array());
        std::string restart = "always";
        const std::string policy = pod.spec.value("restartPolicy", "Always");
        if (policy == "Never") restart = "no";
        else if (policy == "OnFailure") restart = "on-failure";
        else if (policy != "Always") return bad(pod.where + ": spec.restartPolicy", "want Always, OnFailure or Never, not " + policy);
        std::string runtime;
        if (pod.spec.contains("runtimeClassName")) {
            // The handler `system oci-config` prints: container-NAME runs runtime NAME.
            const std::string rc = yaml_text(pod.spec["runtimeClassName"]);
            if (rc.rfind("container-", 0) != 0 || rc.size() == 10)
                return bad(pod.where + ": spec.runtimeClassName", "\"" + rc + "\" is not one of ours (container-NAME, for the runtime plugin NAME)");
            runtime = rc.substr(10);
        }
        for (size_t i = 0; i < containers.size(); ++i) {
            const std::string cname = containers[i].value("name", "");
            if (cname.empty()) return bad(pod.where + ": spec.containers[" + std::to_string(i) + "].name", "is required");
            const std::string key = containers.size() == 1 ? pod.name : pod.name + "-" + cname;
            if (!taken.insert(key).second) return bad(pod.where, "a second container named " + key);
            json s = CTR_TRY(service_of(pod, containers[i], i, volumes, o, model["volumes"], warnings));
            s["container_name"] = key;
            s["restart"] = restart;
            if (!runtime.empty()) s["runtime"] = runtime;
            if (pod.spec.contains("terminationGracePeriodSeconds"))
                s["stop_grace_period"] = CTR_TRY(seconds(pod.spec["terminationGracePeriodSeconds"], pod.where + ": spec.terminationGracePeriodSeconds"));
            if (i == 0) {
                s["hostname"] = pod.spec.contains("hostname") ? yaml_text(pod.spec["hostname"]) : pod.name;
                s["networks"] = {{"default", {{"aliases", json::array({pod.name})}}}};
            } else {
                // A pod's containers share its network: the first one's.
                s["network_mode"] = "service:" + pod.keys[0];
                s["depends_on"][pod.keys[0]] = {{"condition", "service_started"}, {"required", true}};
            }
            pod.keys.push_back(key);
            services[key] = s;
        }
    }
    for (const auto& [name, spec] : o.services) CTR_TRY_STATUS(apply_service(name, spec, o, services, warnings));
    // A Deployment's replicas say the same of each: once is enough.
    std::set<std::string> seen;
    warnings.erase(std::remove_if(warnings.begin(), warnings.end(), [&seen](const std::string& w) { return !seen.insert(w).second; }), warnings.end());
    return model;
}

}  // namespace

Result<json> kube_play_model(const std::vector<json>& docs, const std::string& project, std::vector<std::string>& warnings) {
    // The fields above are checked by type where they are read; a value of
    // a type no check foresaw is still one clear error, not a crash.
    try {
        return model_of(docs, project, warnings);
    } catch (const json::exception& e) {
        return make_error(CTR_E_INVALID_ARGUMENT, std::string("a field of the YAML has the wrong type (") + e.what() + ")");
    }
}

}  // namespace ctr::compose
