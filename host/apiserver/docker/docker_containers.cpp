// The container routes of the Docker API, on the container service: list,
// create, inspect, start, stop, restart, kill, wait, remove.
#include "apiserver/docker/docker_api.hpp"
#include "apiserver/docker/docker_sessions.hpp"

#include <ctr/base/strings.hpp>
#include <ctr/sys/files.hpp>

#include <chrono>
#include <csignal>
#include <ctime>
#include <thread>

namespace ctr::apiserver::docker {

using nlohmann::json;

namespace {

std::string rfc3339(std::optional<int64_t> unix_seconds) {
    if (!unix_seconds || *unix_seconds <= 0) return "0001-01-01T00:00:00Z";
    std::time_t t = static_cast<std::time_t>(*unix_seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// "3 seconds", "2 minutes", as docker's Status column says them.
std::string ago(int64_t seconds) {
    if (seconds < 1) return "Less than a second";
    if (seconds < 60) return std::to_string(seconds) + " second" + (seconds == 1 ? "" : "s");
    if (seconds < 3600) return std::to_string(seconds / 60) + " minute" + (seconds / 60 == 1 ? "" : "s");
    if (seconds < 86400) return std::to_string(seconds / 3600) + " hour" + (seconds / 3600 == 1 ? "" : "s");
    return std::to_string(seconds / 86400) + " day" + (seconds / 86400 == 1 ? "" : "s");
}

std::string docker_state(const store::ContainerRecord& c) {
    switch (c.state) {
    case store::ContainerState::running: return "running";
    case store::ContainerState::stopped: return "exited";
    default: return "created";
    }
}

std::string status_line(const store::ContainerRecord& c) {
    const int64_t now = store::now_unix();
    if (c.state == store::ContainerState::running) return "Up " + ago(now - c.started_at.value_or(now));
    if (c.state == store::ContainerState::stopped)
        return "Exited (" + std::to_string(c.exit_code.value_or(0)) + ") " + ago(now - c.finished_at.value_or(now)) + " ago";
    return "Created";
}

json networks_of(const store::ContainerRecord& c) {
    json nets = json::object();
    for (const auto& a : c.settings().network_attachments) {
        std::string ip = a.value("ip", "");
        nets[a.value("network", "default")] = {{"IPAddress", ip}, {"MacAddress", a.value("mac", "")}, {"Gateway", a.value("gateway", "")},
                                               {"IPPrefixLen", a.value("prefix_length", 0)}, {"NetworkID", a.value("network", "")},
                                               {"Aliases", json::array()}};
    }
    return nets;
}

json summary_of(const store::ContainerRecord& c) {
    return {{"Id", c.id},
            {"Names", json::array({"/" + c.name})},
            {"Image", c.image},
            {"ImageID", c.settings().image_digest},
            {"Command", ""},
            {"Created", c.created_at},
            {"State", docker_state(c)},
            {"Status", status_line(c)},
            {"Ports", json::array()},
            {"Labels", c.labels.is_object() ? c.labels : json::object()},
            {"HostConfig", {{"NetworkMode", "default"}}},
            {"NetworkSettings", {{"Networks", networks_of(c)}}},
            {"Mounts", json::array()}};
}

json inspect_of(const Containers& cs, const store::ContainerRecord& c) {
    auto text = sys::read_file(cs.dir_of(c.id) / "config.json");
    json spec = json::parse(text ? *text : std::string("{}"), nullptr, false);
    json process = spec.is_object() ? spec.value("process", json::object()) : json::object();
    json args = process.value("args", json::array());
    const auto s = c.settings();
    json nets = networks_of(c);
    std::string first_ip = nets.empty() ? "" : nets.begin()->value("IPAddress", "");
    return {{"Id", c.id},
            {"Created", rfc3339(c.created_at)},
            {"Path", args.empty() ? "" : args[0]},
            {"Args", args.size() > 1 ? json(std::vector<json>(args.begin() + 1, args.end())) : json::array()},
            {"State",
             {{"Status", docker_state(c)},
              {"Running", c.state == store::ContainerState::running},
              {"Paused", false},
              {"Restarting", false},
              {"OOMKilled", false},
              {"Dead", false},
              {"Pid", c.pid.value_or(0)},
              {"ExitCode", c.exit_code.value_or(0)},
              {"Error", ""},
              {"StartedAt", rfc3339(c.started_at)},
              {"FinishedAt", rfc3339(c.finished_at)}}},
            {"Image", s.image_digest},
            {"Name", "/" + c.name},
            {"RestartCount", 0},
            {"Driver", "overlay"},
            {"Platform", "linux"},
            {"HostConfig",
             {{"NetworkMode", "default"}, {"AutoRemove", s.remove}, {"RestartPolicy", {{"Name", s.restart}, {"MaximumRetryCount", 0}}},
              {"Privileged", c.config.value("privileged", false)}, {"Binds", c.config.value("volumes", json::array())},
              {"PortBindings", json::object()}}},
            {"Config",
             {{"Hostname", spec.value("hostname", "")}, {"Env", process.value("env", json::array())}, {"Cmd", args},
              {"Image", c.image}, {"Labels", c.labels.is_object() ? c.labels : json::object()}, {"Tty", s.tty}, {"OpenStdin", s.interactive},
              {"WorkingDir", process.value("cwd", "")}, {"User", c.config.value("user", "")}, {"Entrypoint", nullptr}}},
            {"NetworkSettings", {{"Networks", nets}, {"Ports", json::object()}, {"IPAddress", first_ip}}},
            {"Mounts", json::array()}};
}

Reply no_content(int status = 204) {
    Reply r;
    r.status = status;
    return r;
}

// Our "no such image: X" as Docker says it: the docker CLI pulls on seeing it.
Error docker_error(Error e) {
    if (e.status == CTR_E_NOT_FOUND && e.message.rfind("no such image: ", 0) == 0) e.message = "No such image: " + e.message.substr(15);
    else if (e.status == CTR_E_NOT_FOUND && e.message.rfind("no such container: ", 0) == 0)
        e.message = "No such container: " + e.message.substr(19);
    return e;
}

void add_lifecycle_routes(Router& r, Containers& cs, std::shared_ptr<Sessions> sessions) {
    // A terminal attached before the start: the process waits for it (and its size).
    r.add("POST", "/containers/{id}/start", [&cs, sessions](const Request& req) -> Result<Reply> {
        auto c = cs.get(req.param("id"));
        if (!c) return docker_error(c.error());
        if (c->state == store::ContainerState::running) return no_content(304);
        auto started = cs.start(c->id, sessions->attach_expected(c->id));
        if (!started) return docker_error(started.error());
        return no_content();
    });
    r.add("POST", "/containers/{id}/stop", [&cs](const Request& req) -> Result<Reply> {
        auto c = cs.get(req.param("id"));
        if (!c) return docker_error(c.error());
        if (c->state != store::ContainerState::running) return no_content(304);
        auto [t, sig] = Containers::stop_defaults(*c);
        if (auto it = req.query.find("t"); it != req.query.end()) t = std::max(0, std::atoi(it->second.c_str()));
        CTR_TRY(cs.stop(c->id, t, sig));
        return no_content();
    });
    r.add("POST", "/containers/{id}/restart", [&cs](const Request& req) -> Result<Reply> {
        auto c = cs.get(req.param("id"));
        if (!c) return docker_error(c.error());
        auto it = req.query.find("t");
        CTR_TRY(cs.restart(c->id, it == req.query.end() ? -1 : std::max(0, std::atoi(it->second.c_str()))));
        return no_content();
    });
    r.add("POST", "/containers/{id}/kill", [&cs](const Request& req) -> Result<Reply> {
        auto it = req.query.find("signal");
        int sig = it == req.query.end() || it->second.empty() ? SIGKILL : signal_number(it->second);
        if (sig <= 0) return make_error(CTR_E_INVALID_ARGUMENT, "invalid signal: " + it->second);
        if (auto st = cs.kill(req.param("id"), sig); !st) return docker_error(st.error());
        return no_content();
    });
    // The headers go out at once and the body when the container exits:
    // the docker CLI sends this before it starts the container and waits for
    // the headers first. next-exit, or removed for --rm, first waits for a
    // created container to start (a minute at most).
    r.add("POST", "/containers/{id}/wait", [&cs](const Request& req) -> Result<Reply> {
        auto c = cs.get(req.param("id"));
        if (!c) return docker_error(c.error());
        auto cond = req.query.find("condition");
        const bool next = cond != req.query.end() && (cond->second == "next-exit" || cond->second == "removed");
        Reply reply;
        reply.content_type = "application/json";
        reply.stream = [&cs, id = c->id, next](const Writer& write) {
            if (next) {
                const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
                for (;;) {
                    auto now = cs.get(id);
                    if (!now || now->state != store::ContainerState::created || now->started_at || std::chrono::steady_clock::now() > give_up) break;
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                }
            }
            std::atomic<bool> cancelled{false};
            auto waited = cs.wait(id, cancelled);
            json body = waited ? json{{"StatusCode", waited->value("exit_code", 0)}, {"Error", nullptr}}
                               : json{{"StatusCode", 255}, {"Error", {{"Message", waited.error().message}}}};
            write(body.dump() + "\n");
        };
        return reply;
    });
    r.add("DELETE", "/containers/{id}", [&cs](const Request& req) -> Result<Reply> {
        auto c = cs.get(req.param("id"));
        if (!c) return docker_error(c.error());
        CTR_TRY_STATUS(cs.remove(c->id, req.flag("force"), req.flag("v")));
        return no_content();
    });
}

}  // namespace

void add_container_routes(Router& r, Daemon& d, Containers& cs, std::shared_ptr<Sessions> sessions) {
    (void)d;
    r.add("GET", "/containers/json", [&cs](const Request& req) -> Result<Reply> {
        const bool all = req.flag("all");
        json out = json::array();
        for (const auto& c : CTR_TRY(cs.list()))
            if (all || c.state == store::ContainerState::running) out.push_back(summary_of(c));
        Reply reply;
        reply.body = out;
        return reply;
    });
    r.add("POST", "/containers/create", [&cs](const Request& req) -> Result<Reply> {
        auto it = req.query.find("name");
        auto body = CTR_TRY(run_request_of(req.body, it == req.query.end() ? "" : it->second));
        auto c = cs.create(body);
        if (!c) return docker_error(c.error());
        Reply reply;
        reply.status = 201;
        reply.body = {{"Id", c->id}, {"Warnings", json::array()}};
        return reply;
    });
    r.add("GET", "/containers/{id}/json", [&cs](const Request& req) -> Result<Reply> {
        auto c = cs.get(req.param("id"));
        if (!c) return docker_error(c.error());
        Reply reply;
        reply.body = inspect_of(cs, *c);
        return reply;
    });
    add_lifecycle_routes(r, cs, sessions);
}

}  // namespace ctr::apiserver::docker
