#include "apiserver/docker/docker_shapes.hpp"
#include "services/spec.hpp"

#include "apiserver/health.hpp"

#include <ctr/base/strings.hpp>
#include <ctr/sys/files.hpp>

#include <map>

namespace ctr::apiserver::docker {

using nlohmann::json;

namespace {

// The command a container runs, as the list's "Command": its process's
// args, kept in its record at create. A record made before that was kept
// has them only in the runtime's config.json, read then.
std::string command_of(const Containers& cs, const store::ContainerRecord& c) {
    if (c.config.is_object() && c.config.contains("command") && c.config["command"].is_string()) return c.config["command"];
    auto text = sys::read_file(cs.dir_of(c.id) / "config.json");
    if (!text) return "";
    json spec = json::parse(*text, nullptr, false);
    return spec.is_object() ? services::command_line(spec) : "";
}

// "3 seconds", "2 minutes", as docker's Status column says them.
std::string ago(int64_t seconds) {
    if (seconds < 1) return "Less than a second";
    if (seconds < 60) return std::to_string(seconds) + " second" + (seconds == 1 ? "" : "s");
    if (seconds < 3600) return std::to_string(seconds / 60) + " minute" + (seconds / 60 == 1 ? "" : "s");
    if (seconds < 86400) return std::to_string(seconds / 3600) + " hour" + (seconds / 3600 == 1 ? "" : "s");
    return std::to_string(seconds / 86400) + " day" + (seconds / 86400 == 1 ? "" : "s");
}

std::string status_line(const Containers& cs, const store::ContainerRecord& c) {
    const int64_t now = store::now_unix();
    if (c.state == store::ContainerState::running) {
        std::string h = health_status(cs, c);
        return "Up " + ago(now - c.started_at.value_or(now)) + (c.paused ? " (Paused)" : "") +
               (h == "none" ? "" : h == "starting" ? " (health: starting)" : " (" + h + ")");
    }
    if (c.state == store::ContainerState::stopped)
        return "Exited (" + std::to_string(c.exit_code.value_or(0)) + ") " + ago(now - c.finished_at.value_or(now)) + " ago";
    return "Created";
}

// The published ports: [{host_ip, host_port, container_port, protocol}] of every attachment.
std::vector<json> published(const store::ContainerRecord& c) {
    std::vector<json> out;
    for (const auto& a : c.settings().network_attachments)
        for (const auto& p : a.value("ports", json::array())) out.push_back(p);
    return out;
}

// The list's Ports: [{IP, PrivatePort, PublicPort, Type}].
json ports_list(const store::ContainerRecord& c) {
    json out = json::array();
    for (const auto& p : published(c))
        out.push_back({{"IP", p.value("host_ip", "").empty() ? "0.0.0.0" : p.value("host_ip", "")},
                       {"PrivatePort", p.value("container_port", 0)},
                       {"PublicPort", p.value("host_port", 0)},
                       {"Type", p.value("protocol", "tcp")}});
    return out;
}

// Inspect's NetworkSettings.Ports: {"80/tcp": [{HostIp, HostPort}]}; a
// port the image exposes but nobody published maps to null.
json ports_map(const store::ContainerRecord& c) {
    json out = json::object();
    for (const auto& p : published(c)) {
        const std::string key = std::to_string(p.value("container_port", 0)) + "/" + p.value("protocol", "tcp");
        if (!out.contains(key)) out[key] = json::array();
        out[key].push_back({{"HostIp", p.value("host_ip", "").empty() ? "0.0.0.0" : p.value("host_ip", "")},
                            {"HostPort", std::to_string(p.value("host_port", 0))}});
    }
    return out;
}

json networks_of(const store::ContainerRecord& c) {
    json nets = json::object();
    for (const auto& a : c.settings().network_attachments) {
        const json request = a.value("request", json::object());
        nets[a.value("network", "default")] = {{"IPAddress", a.value("ip", "")},
                                               {"MacAddress", a.value("mac", "")},
                                               {"Gateway", a.value("gateway", "")},
                                               {"IPPrefixLen", a.value("prefix", 0)},
                                               {"NetworkID", a.value("network", "")},
                                               {"EndpointID", c.id.substr(0, 12) + "-" + a.value("network", "")},
                                               {"Aliases", request.value("aliases", json::array())},
                                               {"IPv6Gateway", ""},
                                               {"GlobalIPv6Address", ""}};
    }
    return nets;
}

}  // namespace

std::string docker_time(std::optional<int64_t> unix_seconds) {
    if (!unix_seconds || *unix_seconds <= 0) return "0001-01-01T00:00:00Z";
    return ctr::rfc3339(*unix_seconds);
}

std::string docker_state(const store::ContainerRecord& c) {
    switch (c.state) {
    case store::ContainerState::running: return c.paused ? "paused" : "running";
    case store::ContainerState::stopped: return "exited";
    default: return "created";
    }
}

std::string health_status(const Containers& cs, const store::ContainerRecord& c) {
    json h = Health::of(c, cs.dir_of(c.id));
    return h.is_object() ? h.value("status", "none") : "none";
}

std::vector<std::string> network_names(const store::ContainerRecord& c) {
    std::vector<std::string> out;
    const auto s = c.settings();
    for (const auto& a : s.network_attachments) out.push_back(a.value("network", ""));
    if (out.empty())
        for (const auto& n : s.networks)
            if (n.is_string()) out.push_back(n);
    return out;
}

json mounts_of(const Containers& cs, const store::ContainerRecord& c) {
    (void)cs;
    json out = json::array();
    for (const auto& v : c.config.value("volumes", json::array())) {
        if (!v.is_string()) continue;
        const std::string text = v;
        const auto first = text.find(':');
        if (first == std::string::npos) {  // an anonymous volume at this path
            out.push_back({{"Type", "volume"}, {"Destination", text}, {"RW", true}, {"Mode", ""}, {"Propagation", ""}});
            continue;
        }
        const std::string src = text.substr(0, first);
        std::string rest = text.substr(first + 1), mode;
        if (auto second = rest.find(':'); second != std::string::npos) {
            mode = rest.substr(second + 1);
            rest = rest.substr(0, second);
        }
        const bool bind = !src.empty() && (src[0] == '/' || src[0] == '.');
        json m = {{"Type", bind ? "bind" : "volume"}, {"Source", src}, {"Destination", rest}, {"Mode", mode},
                  {"RW", mode.find("ro") == std::string::npos}, {"Propagation", bind ? "rprivate" : ""}};
        if (!bind) m["Name"] = src;
        out.push_back(m);
    }
    return out;
}

json summary_of(const Containers& cs, const store::ContainerRecord& c) {
    const std::string command = command_of(cs, c);
    json nets = networks_of(c);
    return {{"Id", c.id},
            {"Names", json::array({"/" + c.name})},
            {"Image", c.image},
            {"ImageID", c.settings().image_digest},
            {"Command", command},
            {"Created", c.created_at},
            {"State", docker_state(c)},
            {"Status", status_line(cs, c)},
            {"Ports", ports_list(c)},
            {"Labels", c.labels.is_object() ? c.labels : json::object()},
            {"HostConfig", {{"NetworkMode", nets.empty() ? "none" : nets.begin().key()}}},
            {"NetworkSettings", {{"Networks", nets}}},
            {"Mounts", mounts_of(cs, c)}};
}

json inspect_of(const Containers& cs, const store::ContainerRecord& c) {
    auto text = sys::read_file(cs.dir_of(c.id) / "config.json");
    json spec = json::parse(text ? *text : std::string("{}"), nullptr, false);
    json process = spec.is_object() ? spec.value("process", json::object()) : json::object();
    json args = process.value("args", json::array());
    const auto s = c.settings();
    json nets = networks_of(c);
    std::string first_ip = nets.empty() ? "" : nets.begin()->value("IPAddress", "");
    json state = {{"Status", docker_state(c)},
                  {"Running", c.state == store::ContainerState::running},
                  {"Paused", c.paused},
                  {"Restarting", false},
                  {"OOMKilled", c.oom_killed},
                  {"Dead", false},
                  {"Pid", c.pid.value_or(0)},
                  {"ExitCode", c.exit_code.value_or(0)},
                  {"Error", ""},
                  {"StartedAt", docker_time(c.started_at)},
                  {"FinishedAt", docker_time(c.finished_at)}};
    if (json h = Health::of(c, cs.dir_of(c.id)); h.is_object()) {
        json log = json::array();
        for (const auto& l : h.value("log", json::array()))
            log.push_back({{"ExitCode", l.value("exit_code", 0)}, {"Output", l.value("output", "")}});
        state["Health"] = {{"Status", h.value("status", "starting")}, {"FailingStreak", h.value("failing_streak", 0)}, {"Log", log}};
    }
    const json port_bindings = ports_map(c);
    return {{"Id", c.id},
            {"Created", docker_time(c.created_at)},
            {"Path", args.empty() ? "" : args[0]},
            {"Args", args.size() > 1 ? json(std::vector<json>(args.begin() + 1, args.end())) : json::array()},
            {"State", state},
            {"Image", s.image_digest},
            {"Name", "/" + c.name},
            {"RestartCount", 0},
            {"Driver", "overlay"},
            {"Platform", "linux"},
            {"HostConfig",
             {{"NetworkMode", nets.empty() ? "none" : nets.begin().key()}, {"AutoRemove", s.remove},
              {"RestartPolicy", {{"Name", s.restart.substr(0, s.restart.find(':'))},
                                 {"MaximumRetryCount", s.restart.find(':') == std::string::npos ? 0 : std::atoi(s.restart.c_str() + s.restart.find(':') + 1)}}}, {"Privileged", c.config.value("privileged", false)},
              {"Binds", c.config.value("volumes", json::array())}, {"PortBindings", port_bindings},
              // What the logs route serves: clients (compose) read logs only from drivers they know keep them.
              {"LogConfig", {{"Type", c.config.value("log_driver", "json-file")},
                             {"Config", c.config.contains("log_opts") && c.config["log_opts"].is_object() ? c.config["log_opts"] : json::object()}}}}},
            {"Config",
             {{"Hostname", spec.value("hostname", "")}, {"Env", process.value("env", json::array())}, {"Cmd", args},
              {"Image", c.image}, {"Labels", c.labels.is_object() ? c.labels : json::object()}, {"Tty", s.tty}, {"OpenStdin", s.interactive},
              {"WorkingDir", process.value("cwd", "")}, {"User", c.config.value("user", "")}, {"Entrypoint", nullptr},
              {"ExposedPorts", json::object()}}},
            {"NetworkSettings", {{"Networks", nets}, {"Ports", ports_map(c)}, {"IPAddress", first_ip}, {"Gateway", nets.empty() ? "" : nets.begin()->value("Gateway", "")}}},
            {"Mounts", mounts_of(cs, c)}};
}

}  // namespace ctr::apiserver::docker
