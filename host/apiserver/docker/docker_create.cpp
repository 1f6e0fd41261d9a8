// A Docker create request (Config and HostConfig) as our run request. Each
// field that has a flag of `container run` becomes that flag's field; what
// we do not carry out is refused by name rather than dropped.
#include "apiserver/docker/docker_api.hpp"

#include <cmath>

namespace ctr::apiserver::docker {

using nlohmann::json;

namespace {

// "80/tcp": [{"HostIp": "", "HostPort": "8080"}] -> "8080:80/tcp"; an empty
// HostPort, or Docker's "0" (testcontainers sends it; our -p refuses port
// 0, as the bad-input catalogue asks), lets the network plugin pick one.
json publish_of(const json& bindings) {
    json out = json::array();
    if (!bindings.is_object()) return out;
    for (const auto& [port, hosts] : bindings.items()) {
        std::string proto = "tcp", number = port;
        if (auto slash = port.find('/'); slash != std::string::npos) {
            number = port.substr(0, slash);
            proto = port.substr(slash + 1);
        }
        if (!hosts.is_array() || hosts.empty()) {
            out.push_back(number + "/" + proto);
            continue;
        }
        for (const auto& h : hosts) {
            std::string ip = h.value("HostIp", ""), host_port = h.value("HostPort", "");
            if (host_port == "0") host_port.clear();
            std::string text = (ip.empty() ? "" : ip + ":") + host_port + (ip.empty() && host_port.empty() ? "" : ":") + number + "/" + proto;
            out.push_back(text);
        }
    }
    return out;
}

void copy_if(const json& from, const char* key, json& to, const char* as) {
    if (from.contains(key) && !from[key].is_null()) to[as] = from[key];
}

// Seconds from Docker's nanoseconds (health check times).
double seconds_of(const json& ns) { return ns.is_number() ? ns.get<double>() / 1e9 : 0; }

// The finer controls (services/tuning.hpp); Docker's zero values mean unset.
void tuning_into(const json& hc, json& b) {
    for (auto [key, as] : {std::pair{"MemoryReservation", "memory_reservation"}, {"MemorySwap", "memory_swap"}, {"CpuShares", "cpu_shares"},
                           {"OomScoreAdj", "oom_score_adj"}})
        if (hc.contains(key) && hc[key].is_number_integer() && hc[key].get<int64_t>() != 0) b[as] = hc[key];
    for (auto [key, as] : {std::pair{"CpusetCpus", "cpuset_cpus"}, {"CpusetMems", "cpuset_mems"}, {"PidMode", "pid"}, {"IpcMode", "ipc"},
                           {"UTSMode", "uts"}})
        if (hc.contains(key) && hc[key].is_string() && !hc[key].get<std::string>().empty()) b[as] = hc[key];
    copy_if(hc, "GroupAdd", b, "group_add");
    copy_if(hc, "PublishAllPorts", b, "publish_all");
    copy_if(hc, "Annotations", b, "annotations");
}

Status host_config_into(const json& hc, json& b) {
    if (!hc.is_object()) return ok();
    tuning_into(hc, b);
    copy_if(hc, "Binds", b, "volumes");
    copy_if(hc, "VolumesFrom", b, "volumes_from");
    copy_if(hc, "AutoRemove", b, "rm");
    copy_if(hc, "Privileged", b, "privileged");
    copy_if(hc, "CapAdd", b, "cap_add");
    copy_if(hc, "CapDrop", b, "cap_drop");
    copy_if(hc, "ReadonlyRootfs", b, "read_only");
    copy_if(hc, "SecurityOpt", b, "security_opt");
    copy_if(hc, "Init", b, "init");
    copy_if(hc, "ExtraHosts", b, "add_hosts");
    copy_if(hc, "Dns", b, "dns");
    copy_if(hc, "DnsSearch", b, "dns_search");
    copy_if(hc, "DnsOptions", b, "dns_options");
    if (hc.value("Memory", int64_t{0}) > 0) b["memory"] = hc["Memory"];
    if (hc.value("NanoCpus", int64_t{0}) > 0) b["cpus"] = hc["NanoCpus"].get<double>() / 1e9;
    if (hc.value("PidsLimit", int64_t{0}) != 0 && !hc["PidsLimit"].is_null()) b["pids_limit"] = hc["PidsLimit"];
    if (hc.value("ShmSize", int64_t{0}) > 0) b["shm_size"] = hc["ShmSize"];
    if (hc.contains("PortBindings")) b["publish"] = publish_of(hc["PortBindings"]);
    if (const auto& lc = hc.value("LogConfig", json::object()); lc.is_object()) {
        if (lc.contains("Type") && lc["Type"].is_string() && !lc["Type"].get<std::string>().empty()) b["log_driver"] = lc["Type"];
        if (lc.contains("Config") && lc["Config"].is_object() && !lc["Config"].empty()) b["log_opts"] = lc["Config"];
    }
    if (hc.contains("Tmpfs") && hc["Tmpfs"].is_object()) {
        json tmpfs = json::array();
        for (const auto& [dst, opts] : hc["Tmpfs"].items())
            tmpfs.push_back(dst + (opts.is_string() && !opts.get<std::string>().empty() ? ":" + opts.get<std::string>() : ""));
        b["tmpfs"] = tmpfs;
    }
    if (hc.contains("Ulimits") && hc["Ulimits"].is_array()) {
        json limits = json::array();
        for (const auto& u : hc["Ulimits"])
            limits.push_back(u.value("Name", "") + "=" + std::to_string(u.value("Soft", int64_t{0})) + ":" + std::to_string(u.value("Hard", int64_t{0})));
        b["ulimits"] = limits;
    }
    if (hc.contains("Devices") && hc["Devices"].is_array()) {
        json devices = json::array();
        for (const auto& d : hc["Devices"])
            devices.push_back(d.value("PathOnHost", "") + ":" + d.value("PathInContainer", d.value("PathOnHost", "")) + ":" +
                              d.value("CgroupPermissions", "rwm"));
        b["devices"] = devices;
    }
    if (hc.contains("Sysctls") && hc["Sysctls"].is_object()) b["sysctls"] = hc["Sysctls"];
    if (auto mode = hc.value("NetworkMode", ""); !mode.empty() && mode != "default" && mode != "bridge") b["networks"] = json::array({mode});
    if (hc.contains("RestartPolicy") && hc["RestartPolicy"].is_object()) {
        std::string name = hc["RestartPolicy"].value("Name", "");
        int64_t max = hc["RestartPolicy"].value("MaximumRetryCount", int64_t{0});
        if (!name.empty()) b["restart"] = name == "on-failure" && max > 0 ? name + ":" + std::to_string(max) : name;
    }
    if (hc.contains("Mounts") && hc["Mounts"].is_array()) {
        json mounts = json::array();
        for (const auto& m : hc["Mounts"]) {
            std::string text = "type=" + m.value("Type", "volume") + ",target=" + m.value("Target", "");
            if (!m.value("Source", "").empty()) text += ",source=" + m.value("Source", "");
            if (m.value("ReadOnly", false)) text += ",readonly";
            mounts.push_back(text);
        }
        b["mounts"] = mounts;
    }
    return ok();
}

}  // namespace

Result<json> run_request_of(const json& d, const std::string& name) {
    if (!d.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "the create request must be a JSON object");
    if (!d.contains("Image") || !d["Image"].is_string() || d["Image"].get<std::string>().empty())
        return make_error(CTR_E_INVALID_ARGUMENT, "Config.Image must be a non-empty string");
    json b = {{"image", d["Image"]}};
    if (!name.empty()) b["name"] = name;
    if (d.contains("Cmd") && d["Cmd"].is_array()) b["cmd"] = d["Cmd"];
    else if (d.contains("Cmd") && d["Cmd"].is_string()) b["cmd"] = json::array({"/bin/sh", "-c", d["Cmd"]});
    if (d.contains("Entrypoint") && d["Entrypoint"].is_array()) b["entrypoint"] = d["Entrypoint"];
    else if (d.contains("Entrypoint") && d["Entrypoint"].is_string()) b["entrypoint"] = json::array({d["Entrypoint"]});
    if (d.contains("ExposedPorts") && d["ExposedPorts"].is_object()) {
        json expose = json::array();
        for (auto it = d["ExposedPorts"].begin(); it != d["ExposedPorts"].end(); ++it) expose.push_back(it.key());
        b["expose"] = expose;
    }
    copy_if(d, "Env", b, "env");
    copy_if(d, "Labels", b, "labels");
    copy_if(d, "Tty", b, "tty");
    copy_if(d, "OpenStdin", b, "interactive");
    copy_if(d, "StopSignal", b, "stop_signal");
    copy_if(d, "StopTimeout", b, "stop_timeout");
    if (auto w = d.value("WorkingDir", ""); !w.empty()) b["workdir"] = w;
    if (auto u = d.value("User", ""); !u.empty()) b["user"] = u;
    if (auto h = d.value("Hostname", ""); !h.empty()) b["hostname"] = h;
    if (d.contains("Healthcheck") && d["Healthcheck"].is_object() && d["Healthcheck"].contains("Test")) {
        const json& h = d["Healthcheck"];
        json hc = {{"test", h["Test"]}};
        if (h.value("Interval", int64_t{0}) > 0) hc["interval"] = seconds_of(h["Interval"]);
        if (h.value("Timeout", int64_t{0}) > 0) hc["timeout"] = seconds_of(h["Timeout"]);
        if (h.value("StartPeriod", int64_t{0}) > 0) hc["start_period"] = seconds_of(h["StartPeriod"]);
        if (h.value("Retries", int64_t{0}) > 0) hc["retries"] = h["Retries"];
        b["healthcheck"] = hc;
    }
    CTR_TRY_STATUS(host_config_into(d.value("HostConfig", json::object()), b));
    // NetworkingConfig: the first network's aliases and address.
    if (d.contains("NetworkingConfig") && d["NetworkingConfig"].is_object()) {
        const json endpoints = d["NetworkingConfig"].value("EndpointsConfig", json::object());  // items() of a temporary would dangle
        for (const auto& [net, ep] : endpoints.items()) {
            if (net != "bridge" && net != "default" && !b.contains("networks")) b["networks"] = json::array({net});
            if (ep.is_object() && ep.contains("Aliases") && ep["Aliases"].is_array()) b["network_aliases"] = ep["Aliases"];
            if (ep.is_object() && ep.contains("IPAMConfig") && ep["IPAMConfig"].is_object())
                if (auto ip = ep["IPAMConfig"].value("IPv4Address", ""); !ip.empty()) b["ip"] = ip;
            break;
        }
    }
    return b;
}

}  // namespace ctr::apiserver::docker
