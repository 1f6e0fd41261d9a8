// Docker's exec: POST /containers/{id}/exec makes one (nothing runs yet),
// POST /exec/{id}/start runs it (hijacked, or detached), /exec/{id}/resize
// sizes its terminal, GET /exec/{id}/json tells whether it runs and how it
// ended. Each start is one of the container service's execs.
#include "apiserver/docker/docker_api.hpp"
#include "apiserver/docker/docker_sessions.hpp"
#include "apiserver/docker/docker_streams.hpp"
#include "apiserver/container_parts.hpp"

#include <sys/socket.h>

namespace ctr::apiserver::docker {

using nlohmann::json;

namespace {

// Docker's exec config as our exec body.
json exec_body(const json& config) {
    json b = {{"cmd", config["Cmd"]}, {"tty", config.value("Tty", false)}, {"interactive", config.value("AttachStdin", false)}};
    if (config.contains("Env") && config["Env"].is_array()) b["env"] = config["Env"];
    if (auto w = config.value("WorkingDir", ""); !w.empty()) b["workdir"] = w;
    if (auto u = config.value("User", ""); !u.empty()) b["user"] = u;
    return b;
}

Result<DockerExec> find_exec(Sessions& sessions, const std::string& id) {
    auto e = sessions.exec(id);
    if (!e) return make_error(CTR_E_NOT_FOUND, "No such exec instance: " + id);
    return *e;
}

json exec_json(const DockerExec& e) {
    const json& c = e.config;
    json args = json::array();
    for (size_t i = 1; i < c["Cmd"].size(); ++i) args.push_back(c["Cmd"][i]);
    return {{"ID", e.id},
            {"ContainerID", e.container_id},
            {"Running", e.running},
            {"ExitCode", e.exit_code ? json(*e.exit_code) : json(nullptr)},
            {"OpenStdin", c.value("AttachStdin", false)},
            {"OpenStdout", c.value("AttachStdout", false)},
            {"OpenStderr", c.value("AttachStderr", false)},
            {"CanRemove", false},
            {"DetachKeys", c.value("DetachKeys", "")},
            {"Pid", 0},
            {"ProcessConfig",
             {{"tty", c.value("Tty", false)}, {"entrypoint", c["Cmd"][0]}, {"arguments", args},
              {"privileged", c.value("Privileged", false)}, {"user", c.value("User", "")}}}};
}

// An attached start: the client's connection and the exec's shim relayed;
// its exit code noted for exec inspect before the client hears the end.
void run_attached(Containers& cs, Sessions& sessions, const DockerExec& e, const std::string& ours, std::shared_ptr<ShimLink> link,
                  int fd, std::string leftover, const std::string& detach) {
    // The shim starts the process once its first client spoke: its first
    // word is the size docker sends with /exec/{id}/resize.
    sessions.link_sized(e.id, link);
    const RelayEnd end = relay(fd, *link, std::move(leftover),
                               {e.config.value("AttachStdin", false), true, e.config.value("Tty", false), detach});
    sessions.drop_link(e.id, link);
    if (end == RelayEnd::ended) {
        auto code = cs.exec_wait(ours);
        sessions.end_exec(e.id, code ? std::optional<int>((*code)["exit_code"].get<int>()) : std::nullopt);
    }
    end_hijacked(fd);
}

}  // namespace

void add_exec_routes(Router& r, Containers& cs, std::shared_ptr<Sessions> sessions) {
    r.add("POST", "/containers/{id}/exec", [&cs, sessions](const Request& req) -> Result<Reply> {
        auto c = cs.get(req.param("id"));
        if (!c) return make_error(CTR_E_NOT_FOUND, "No such container: " + req.param("id"));
        if (c->state != store::ContainerState::running) return make_error(CTR_E_FAILED_PRECONDITION, "Container " + c->id + " is not running");
        const json& b = req.body;
        if (!b.is_object() || !b.contains("Cmd") || !b["Cmd"].is_array() || b["Cmd"].empty())
            return make_error(CTR_E_INVALID_ARGUMENT, "No exec command specified");
        for (const auto& a : b["Cmd"])
            if (!a.is_string()) return make_error(CTR_E_INVALID_ARGUMENT, "Cmd: every argument must be a string");
        if (b.contains("DetachKeys") && b["DetachKeys"].is_string()) CTR_TRY(detach_sequence(b["DetachKeys"]));
        DockerExec e;
        e.id = detail::random_id();
        e.container_id = c->id;
        e.config = b;
        return json_reply(json{{"Id", sessions->add_exec(std::move(e))}}, 201);
    });
    r.add_handover("POST", "/exec/{id}/start", [&cs, sessions](const Request& req) -> Result<Reply> {
        DockerExec e = CTR_TRY(find_exec(*sessions, req.param("id")));
        const std::string detach = CTR_TRY(detach_sequence(e.config.value("DetachKeys", "")));
        if (!sessions->start_exec(e.id)) return make_error(CTR_E_FAILED_PRECONDITION, "Exec " + e.id + " has already started");
        e.running = true;
        json body = exec_body(e.config);
        if (req.body.is_object() && req.body.value("Detach", false)) {
            auto started = cs.exec_detached(e.container_id, body, true);
            if (!started) {
                sessions->end_exec(e.id, std::nullopt);
                return started.error();
            }
            sessions->set_ours(e.id, (*started)["exec_id"]);
            return Reply{};
        }
        auto started = cs.exec_attached(e.container_id, body);
        if (!started) {
            sessions->end_exec(e.id, std::nullopt);
            return started.error();
        }
        const std::string ours = (*started)["exec_id"];
        auto fd = cs.connect_exec(ours);
        if (!fd) {
            sessions->end_exec(e.id, std::nullopt);
            return fd.error();
        }
        sessions->set_ours(e.id, ours);
        auto link = std::make_shared<ShimLink>();
        link->fd = std::move(*fd);
        Reply reply;
        reply.status = 101;
        reply.upgrade = [&cs, sessions, e, ours, link, detach](int client, std::string leftover) {
            run_attached(cs, *sessions, e, ours, link, client, std::move(leftover), detach);
        };
        return reply;
    });
    r.add("POST", "/exec/{id}/resize", [sessions](const Request& req) -> Result<Reply> {
        DockerExec e = CTR_TRY(find_exec(*sessions, req.param("id")));
        auto [rows, cols] = CTR_TRY(terminal_size(req));
        if (e.config.value("Tty", false)) sessions->resize(e.id, rows, cols);
        return Reply{};
    });
    r.add("GET", "/exec/{id}/json", [&cs, sessions](const Request& req) -> Result<Reply> {
        DockerExec e = CTR_TRY(find_exec(*sessions, req.param("id")));
        // A detached exec, or one whose client left: its end is noticed now.
        if (e.running && !e.ours.empty() && !sessions->has_link(e.id)) {
            auto code = cs.exec_poll(e.ours);
            if (!code) sessions->end_exec(e.id, std::nullopt);
            else if (*code) sessions->end_exec(e.id, **code);
            e = CTR_TRY(find_exec(*sessions, e.id));
        }
        return json_reply(exec_json(e));
    });
}

}  // namespace ctr::apiserver::docker
