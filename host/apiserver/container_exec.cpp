// exec: another process in a running container, through an exec shim of its
// own (attached with -i/-t, detached with -d, or streamed as frames).
#include "apiserver/containers.hpp"
#include "apiserver/container_parts.hpp"
#include "api/mux_frame.hpp"
#include <ctr/pluginhost/host_env.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/spawn.hpp>

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace ctr::apiserver {

namespace fs = std::filesystem;
using nlohmann::json;
using detail::random_id;
using detail::read_sync_answer;

Result<Containers::ExecPlan> Containers::plan_exec(const std::string& key, const json& body) {
    ExecPlan plan;
    auto c = CTR_TRY(get(key));
    json process = CTR_TRY(exec_process(c, body));
    plan.container_id = c.id;
    plan.dir = dir_of(c.id);
    plan.exec_id = "e" + random_id().substr(0, 16);
    plan.process_file = plan.dir / ("exec-" + plan.exec_id + ".json");
    CTR_TRY_STATUS(sys::write_file_atomic(plan.process_file, process.dump(), 0600, sys::Durability::process_crash));
    plan.args = shim_argv(c, false);
    plan.args.insert(plan.args.end(), {"--exec-id", plan.exec_id, "--process-file", plan.process_file.string()});
    std::string command;
    for (const auto& a : body["cmd"]) command += (command.empty() ? "" : " ") + a.get<std::string>();
    note(c, "exec_create: " + command, {{"execID", plan.exec_id}});
    note(c, "exec_start: " + command, {{"execID", plan.exec_id}});
    return plan;
}

Result<json> Containers::exec_attached(const std::string& key, const json& body) {
    ExecPlan plan = CTR_TRY(plan_exec(key, body));
    const fs::path& dir = plan.dir;
    const std::string& exec_id = plan.exec_id;
    fs::path exit_file = dir / ("exec-" + exec_id + ".exit.json");
    CTR_TRY_STATUS(sys::make_dirs(attach_socket_of(exec_id).parent_path(), 0700));
    std::vector<std::string> args = plan.args;
    args.insert(args.end(), {"--attach-socket", attach_socket_of(exec_id).string(), "--exit-file", exit_file.string(), "--sync-fd", "3"});
    if (body.value("tty", false)) args.push_back("--tty");
    if (body.value("interactive", false)) args.push_back("--interactive");
    auto sync = CTR_TRY(sys::make_pipe());
    sys::SpawnOptions so;
    so.stdout_path = (dir / "shim.log").string();
    so.stderr_path.clear();
    so.pass_fds = {{sync.write.get(), 3}};
    so.new_session = true;
    auto spawned = sys::spawn(args, so);
    sync.write.reset();
    sys::UniqueFd sync_read = std::move(sync.read);
    if (!spawned) return spawned.error().wrap("start the exec shim");
    {
        std::lock_guard<std::mutex> lock(mu_);
        shims_.insert(*spawned);
        execs_[exec_id] = {plan.container_id, *spawned, exit_file, plan.process_file};
    }
    // The shim answers once its socket listens; the process runs when the client attached.
    auto j = read_sync_answer(sync_read.get(), 10000);
    if (!j.is_object() || !j.value("ok", false))
        return make_error(CTR_E_INTERNAL, j.is_object() ? j.value("message", "the exec shim failed") : "the exec shim ended without a word");
    return json{{"exec_id", exec_id}};
}

Result<json> Containers::exec_detached(const std::string& key, const json& body, bool track) {
    ExecPlan plan = CTR_TRY(plan_exec(key, body));
    fs::path process_file = plan.process_file;
    fs::path exit_file = track ? plan.dir / ("exec-" + plan.exec_id + ".exit.json") : fs::path();
    sys::SpawnOptions so;  // output is nobody's, as Docker's exec -d
    so.new_session = true;
    auto spawned = sys::spawn(plan.args, so);
    if (!spawned) {
        std::error_code ec;
        fs::remove(process_file, ec);
        return spawned.error().wrap("start the exec shim");
    }
    if (track) {
        std::lock_guard<std::mutex> lock(mu_);
        execs_[plan.exec_id] = {plan.container_id, *spawned, exit_file, process_file};
    }
    // A thread of its own reaps it (the shim exits with the process's code),
    // notes the code where exec_poll looks, and removes its process file.
    // It touches files only: it may outlive this object at shutdown.
    std::thread([pid = *spawned, process_file, exit_file] {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        std::error_code ec;
        if (!exit_file.empty()) {
            const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
            (void)sys::write_file_atomic(exit_file, json{{"exit_code", code}}.dump(), 0600, sys::Durability::process_crash);
        } else {
            fs::remove(process_file, ec);
        }
    }).detach();
    return json{{"exec_id", plan.exec_id}};
}

Result<std::optional<int>> Containers::exec_poll(const std::string& exec_id) {
    ExecRecord e;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = execs_.find(exec_id);
        if (it == execs_.end()) return make_error(CTR_E_NOT_FOUND, "no exec \"" + exec_id + "\"");
        e = it->second;
    }
    auto take_exit = [&]() -> std::optional<int> {
        std::error_code ec;
        if (!fs::exists(e.exit_file, ec)) return std::nullopt;
        auto text = sys::read_file(e.exit_file);
        auto j = json::parse(text ? *text : std::string(), nullptr, false);
        if (auto c = get(e.container_id))
            note(*c, "exec_die", {{"execID", exec_id}, {"exitCode", std::to_string(j.is_object() ? j.value("exit_code", 125) : 125)}});
        std::lock_guard<std::mutex> lock(mu_);
        execs_.erase(exec_id);
        fs::remove(e.exit_file, ec);
        fs::remove(e.process_file, ec);
        return j.is_object() ? j.value("exit_code", 125) : 125;
    };
    if (auto code = take_exit()) return code;
    if (::kill(e.pid, 0) != 0 && errno == ESRCH) {
        // Gone: its exit file comes right after (from the shim, or from the reaper of a detached one).
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (auto code = take_exit()) return code;
        std::lock_guard<std::mutex> lock(mu_);
        execs_.erase(exec_id);
        return make_error(CTR_E_INTERNAL, "the exec shim ended without an exit code");
    }
    return std::optional<int>();
}

Result<json> Containers::exec_wait(const std::string& exec_id) {
    for (;;) {
        if (auto code = CTR_TRY(exec_poll(exec_id))) return json{{"exit_code", *code}};
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

Result<sys::UniqueFd> Containers::connect_exec(const std::string& exec_id) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!execs_.count(exec_id)) return make_error(CTR_E_NOT_FOUND, "no exec \"" + exec_id + "\"");
    }
    return connect_socket(attach_socket_of(exec_id).string(), "exec " + exec_id);
}

Result<sys::UniqueFd> Containers::connect_socket(const std::string& path, const std::string& what) {
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (!fd.valid() || path.size() >= sizeof a.sun_path) return make_error(CTR_E_INTERNAL, "attach socket \"" + path + "\" unusable");
    std::memcpy(a.sun_path, path.c_str(), path.size());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        return make_error(CTR_E_FAILED_PRECONDITION, what + " takes no attach now: " + std::strerror(errno));
    return fd;
}

Result<sys::UniqueFd> Containers::connect_attach(const std::string& key) {
    auto c = CTR_TRY(get(key));
    if (const auto s = c.settings(); !s.tty && !s.interactive)
        return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " was made without -i or -t: there is nothing to attach to (use logs -f)");
    CTR_TRY_STATUS(store::check_action(c.name, c.state, store::ContainerAction::attach));
    return connect_socket(attach_socket_of(c.id).string(), "container " + c.name);
}


Result<json> Containers::exec_process(const store::ContainerRecord& c, const json& body) {
    CTR_TRY_STATUS(store::check_action(c.name, c.state, store::ContainerAction::exec));
    if (c.paused) return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is paused: unpause it before exec");
    if (!body.is_object() || !body.contains("cmd") || !body["cmd"].is_array() || body["cmd"].empty())
        return make_error(CTR_E_INVALID_ARGUMENT, "exec needs a non-empty \"cmd\" array");
    for (const auto& [k, v] : body.items())
        if (k != "cmd" && k != "env" && k != "workdir" && k != "user" && k != "tty" && k != "interactive" && k != "detach")
            return make_error(CTR_E_INVALID_ARGUMENT, "unknown field \"" + k + "\"");
    // The container's own process settings, with the command and overrides.
    fs::path dir = dir_of(c.id);
    auto spec = json::parse(CTR_TRY(sys::read_file(dir / "config.json")), nullptr, false);
    if (!spec.is_object()) return make_error(CTR_E_INTERNAL, "config.json of " + c.name + " is not json");
    json process = spec["process"];
    process["args"] = body["cmd"];
    if (body.contains("env")) {
        std::vector<std::string> overrides;
        for (const auto& e : body["env"]) {
            if (!e.is_string()) return make_error(CTR_E_INVALID_ARGUMENT, "exec: \"env\" must be an array of strings");
            overrides.push_back(e);
        }
        process["env"] = services::merge_env(process.value("env", std::vector<std::string>{}), overrides);
    }
    if (body.contains("workdir")) process["cwd"] = body["workdir"];
    if (body.contains("user")) {
        if (!body["user"].is_string()) return make_error(CTR_E_INVALID_ARGUMENT, "exec: \"user\" must be a string");
        // Names as the container's own /etc/passwd and /etc/group have them now.
        auto ids = services::resolve_user(body["user"], dir / "rootfs");
        if (!ids) return ids.error().wrap("exec --user");
        process["user"] = {{"uid", ids->first}, {"gid", ids->second}};
        if (ids->first != 0 && process.contains("capabilities")) {  // as at create: no effective capabilities but root's
            process["capabilities"]["effective"] = json::array();
            process["capabilities"]["permitted"] = json::array();
        }
    }
    process["terminal"] = body.value("tty", false);
    if (body.value("tty", false)) {
        bool has_term = false;
        for (const auto& e : process["env"]) has_term = has_term || e.get<std::string>().rfind("TERM=", 0) == 0;
        if (!has_term) process["env"].push_back("TERM=xterm");
    }
    return process;
}

Status Containers::exec(const std::string& key, const json& body, const Writer& write) {
    ExecPlan plan = CTR_TRY(plan_exec(key, body));
    const fs::path& process_file = plan.process_file;

    auto out = CTR_TRY(sys::make_pipe());
    auto err = CTR_TRY(sys::make_pipe());
    sys::SpawnOptions so;
    so.stdout_fd = out.write.get();
    so.stderr_fd = err.write.get();
    auto spawned = sys::spawn(plan.args, so);
    out.write.reset();
    err.write.reset();
    if (!spawned) return spawned.error();
    sys::UniqueFd ends[2] = {std::move(out.read), std::move(err.read)};
    pollfd p[2] = {{ends[0].get(), POLLIN, 0}, {ends[1].get(), POLLIN, 0}};
    bool client_gone = false;
    int open_count = 2;
    char buf[16384];
    while (open_count > 0) {
        if (::poll(p, 2, -1) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = ::read(p[i].fd, buf, sizeof buf);
            if (n <= 0) {
                ends[i].reset();
                p[i].fd = -1;
                --open_count;
                continue;
            }
            if (!client_gone && !write(api::mux_frame(static_cast<uint8_t>(i + 1), std::string_view(buf, static_cast<size_t>(n)))))
                client_gone = true;  // keep draining so the process is not blocked on a full pipe
        }
    }
    int status = 0;
    while (::waitpid(*spawned, &status, 0) < 0 && errno == EINTR) {
    }
    std::error_code ec;
    fs::remove(process_file, ec);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (!client_gone) write(api::mux_frame(3, json{{"exit_code", code}}.dump()));
    return ok();
}

}  // namespace ctr::apiserver
