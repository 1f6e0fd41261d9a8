#include "compose/plan.hpp"

#include <cmath>
#include <cstdio>
#include <functional>
#include <set>

namespace ctr::compose {

using nlohmann::json;

Result<std::vector<std::string>> start_order(const Project& project, const std::vector<std::string>& selected) {
    const json& services = project.model["services"];
    std::vector<std::string> roots = selected;
    if (roots.empty())
        for (const auto& [name, s] : services.items()) roots.push_back(name);
    std::vector<std::string> order;
    std::set<std::string> seen;
    // The graph has no cycles (load checked): a depth-first walk, dependencies first.
    std::function<void(const std::string&)> visit = [&](const std::string& n) {
        if (!seen.insert(n).second) return;
        for (const auto& [dep, spec] : services[n]["depends_on"].items())
            if (services.contains(dep)) visit(dep);
        order.push_back(n);
    };
    for (const auto& r : roots) {
        if (!services.contains(r)) return make_error(CTR_E_NOT_FOUND, "no such service: " + r);
        visit(r);
    }
    return order;
}

std::string container_name(const Project& project, const std::string& service) {
    const json& s = project.model["services"][service];
    if (s.contains("container_name")) return s["container_name"];
    return project.name + "-" + service + "-1";
}

json create_body(const Project& project, const std::string& service) {
    const json& s = project.model["services"][service];
    json b = {{"image", s["image"]}, {"name", container_name(project, service)}};
    b["cmd"] = s.contains("command") && !s["command"].is_null() ? s["command"] : json::array();
    if (s.contains("entrypoint") && !s["entrypoint"].is_null()) b["entrypoint"] = s["entrypoint"];
    json env = json::array();
    for (const auto& [k, v] : s["environment"].items()) env.push_back(k + "=" + v.get<std::string>());
    b["env"] = env;
    json volumes = json::array(), tmpfs = s.value("tmpfs", json::array());
    for (const auto& m : s["volumes"]) {
        std::string target = m["target"], source = m["source"], type = m["type"];
        std::string ro = m.value("read_only", false) ? ":ro" : "";
        if (type == "tmpfs") {
            std::string opts;
            if (m.contains("size")) opts += "size=" + std::to_string(m["size"].get<int64_t>());
            if (m.contains("mode")) opts += std::string(opts.empty() ? "" : ",") + "mode=" + m["mode"].get<std::string>();
            tmpfs.push_back(target + (opts.empty() ? "" : ":" + opts));
        } else if (type == "bind") {
            volumes.push_back(source + ":" + target + ro);
        } else if (source.empty()) {
            volumes.push_back(target);
        } else {
            volumes.push_back(project.model["volumes"][source]["name"].get<std::string>() + ":" + target + ro);
        }
    }
    b["volumes"] = volumes;
    b["tmpfs"] = tmpfs;
    if (s.contains("network_mode")) {
        const std::string mode = s["network_mode"];
        // service:NAME is that service's container.
        b["networks"] = json::array({mode.rfind("service:", 0) == 0 ? "container:" + container_name(project, mode.substr(8)) : mode});
    } else {
        json nets = json::array();
        std::set<std::string> aliases = {service};
        for (const auto& [n, spec] : s["networks"].items()) {
            nets.push_back(project.model["networks"][n]["name"]);
            for (const auto& a : spec["aliases"]) aliases.insert(a.get<std::string>());
        }
        b["networks"] = nets;
        b["network_aliases"] = json(aliases);
        b["publish"] = s["ports"];
    }
    for (auto [from, to] : {std::pair{"hostname", "hostname"}, {"working_dir", "workdir"}, {"user", "user"}, {"restart", "restart"},
                            {"memory", "memory"}, {"cpus", "cpus"}, {"pids_limit", "pids_limit"}, {"shm_size", "shm_size"},
                            {"init", "init"}, {"stop_signal", "stop_signal"}, {"runtime", "runtime"}, {"tty", "tty"},
                            {"stdin_open", "interactive"}, {"cap_add", "cap_add"}, {"cap_drop", "cap_drop"},
                            {"read_only", "read_only"}, {"dns", "dns"}, {"dns_search", "dns_search"},
                            {"extra_hosts", "add_hosts"}, {"ulimits", "ulimits"}, {"healthcheck", "healthcheck"},
                            {"security_opt", "security_opt"}, {"privileged", "privileged"}, {"devices", "devices"},
                            {"sysctls", "sysctls"}, {"cgroup", "cgroupns"}})
        if (s.contains(from)) b[to] = s[from];
    if (s.contains("logging")) {
        if (!s["logging"]["driver"].get<std::string>().empty()) b["log_driver"] = s["logging"]["driver"];
        if (!s["logging"]["options"].empty()) b["log_opts"] = s["logging"]["options"];
    }
    if (s.contains("stop_grace_period")) b["stop_timeout"] = static_cast<int64_t>(std::ceil(s["stop_grace_period"].get<double>()));

    json labels = s["labels"];
    labels[kProjectLabel] = project.name;
    labels[kServiceLabel] = service;
    labels["com.docker.compose.container-number"] = "1";
    labels["com.docker.compose.project.working_dir"] = project.dir.string();
    b["labels"] = labels;
    // FNV-1a over the body: what the file asks of this container, nothing else.
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : b.dump()) {
        h ^= c;
        h *= 1099511628211ull;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    b["labels"][kHashLabel] = hex;
    // After the hash: where the dependencies are written down is no change
    // of the container.
    std::string depends;
    const json deps = s.value("depends_on", json::object());
    for (const auto& [dep, spec] : deps.items())
        depends += (depends.empty() ? "" : ",") + dep + ":" + spec.value("condition", "service_started") + ":false";
    if (!depends.empty()) b["labels"][kDependsOnLabel] = depends;
    return b;
}

std::vector<json> host_ports(const Project& project, const std::string& service) {
    std::vector<json> out;
    const json& s = project.model["services"][service];
    if (!s.contains("ports")) return out;
    for (const auto& p : s["ports"]) {
        // [ip:]host:container[/proto]; host may be a range "a-b"; no host part: none to check.
        std::string text = p, proto = "tcp";
        auto slash = text.find('/');
        if (slash != std::string::npos) {
            proto = text.substr(slash + 1);
            text = text.substr(0, slash);
        }
        std::vector<std::string> parts;
        size_t start = 0;
        for (size_t i = 0; i <= text.size(); ++i)
            if (i == text.size() || text[i] == ':') {
                parts.push_back(text.substr(start, i - start));
                start = i + 1;
            }
        if (parts.size() < 2) continue;
        std::string host = parts[parts.size() - 2], ip = parts.size() == 3 ? parts[0] : "";
        if (host.empty()) continue;
        auto dash = host.find('-');
        int first = std::atoi(host.substr(0, dash).c_str());
        int last = dash == std::string::npos ? first : std::atoi(host.substr(dash + 1).c_str());
        for (int port = first; port > 0 && port <= last && port < 65536; ++port)
            out.push_back({{"host_ip", ip}, {"port", port}, {"protocol", proto}});
    }
    return out;
}

}  // namespace ctr::compose
