// `cp` routes. The file work is done by the container-cp helper from inside
// the container's root (see host/cp/main.cpp); the daemon only moves bytes
// between the client and the helper.
#include "apiserver/copy_routes.hpp"

#include <ctr/pluginhost/host_env.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/io.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ctr::apiserver {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Container paths are taken from the container's root, with or without a
// leading "/" (as Docker takes them).
Result<std::string> container_path(const Request& req, const std::string& key) {
    auto it = req.query.find(key);
    if (it == req.query.end() || it->second.empty())
        return make_error(CTR_E_INVALID_ARGUMENT, "cp needs a path in the container (?" + key + "=)");
    if (it->second.find('\0') != std::string::npos) return make_error(CTR_E_INVALID_ARGUMENT, "invalid path in the container");
    return it->second.front() == '/' ? it->second : "/" + it->second;
}

// A stopped container's bind mounts, from its OCI spec: what the helper
// puts back on its root so that cp sees what the container saw.
json binds_of(Containers& cs, const store::ContainerRecord& c) {
    json binds = json::array();
    auto text = sys::read_file(cs.dir_of(c.id) / "config.json");
    auto spec = text ? json::parse(*text, nullptr, false) : json();
    if (!spec.is_object()) return binds;
    for (const auto& m : spec.value("mounts", json::array())) {
        auto options = m.value("options", std::vector<std::string>{});
        bool bind = m.value("type", "") == "bind" ||
                    std::any_of(options.begin(), options.end(), [](const std::string& o) { return o == "bind" || o == "rbind"; });
        if (!bind) continue;
        bool read_only = std::find(options.begin(), options.end(), "ro") != options.end();
        binds.push_back({{"source", m.value("source", "")}, {"destination", m.value("destination", "")}, {"read_only", read_only}});
    }
    return binds;
}

// The helper's first arguments: where the container's root is.
std::vector<std::string> helper_for(Containers& cs, const store::ContainerRecord& c) {
    std::vector<std::string> args = {pluginhost::helper_path("container-cp").string()};
    if (c.state == store::ContainerState::running && c.pid) args.insert(args.end(), {"--pid", std::to_string(*c.pid)});
    else args.insert(args.end(), {"--rootfs", (cs.dir_of(c.id) / "rootfs").string(), "--binds", binds_of(cs, c).dump()});
    return args;
}

std::string first_line(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
}

Result<json> stat_in(Containers& cs, const store::ContainerRecord& c, const std::string& path, bool follow) {
    auto args = helper_for(cs, c);
    args.insert(args.end(), {"stat", path});
    if (follow) args.push_back("--follow");
    sys::RunOptions o;
    o.capture_stderr = true;
    auto r = CTR_TRY(sys::run_capture(args, o));
    if (!r.status.success()) return make_error(CTR_E_INTERNAL, "cp: " + first_line(r.err.empty() ? r.status.describe() : r.err));
    auto j = json::parse(r.out, nullptr, false);
    if (!j.is_object()) return make_error(CTR_E_INTERNAL, "cp: the helper's answer is not json");
    return j;
}

Result<json> existing(Containers& cs, const store::ContainerRecord& c, const std::string& path, bool follow) {
    auto j = CTR_TRY(stat_in(cs, c, path, follow));
    if (j.value("kind", "") == "missing")
        return make_error(CTR_E_NOT_FOUND, "no such file or directory in container " + c.name + ": " + path);
    return j;
}

int wait_exit(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_all(int fd) {
    std::string s;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) s.append(buf, static_cast<size_t>(n));
    return s;
}

// The helper's tar, from its stdout to the reply; what it says on stderr goes to our log.
void stream_out(const std::vector<std::string>& args, const Writer& write) {
    auto out = sys::make_pipe();
    auto err = sys::make_pipe();
    if (!out || !err) {
        spdlog::warn("cp: {}", (!out ? out.error() : err.error()).message);
        return;
    }
    sys::UniqueFd out_r = std::move(out->read), err_r = std::move(err->read);
    sys::SpawnOptions so;
    so.stdout_fd = out->write.get();
    so.stderr_fd = err->write.get();
    auto spawned = sys::spawn(args, so);
    out->write.reset();
    err->write.reset();
    if (!spawned) {
        spdlog::warn("cp: {}", spawned.error().message);
        return;
    }
    pollfd p[2] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}};
    std::string said;
    bool gone = false;
    char buf[65536];
    for (int open_count = 2; open_count > 0;) {
        if (::poll(p, 2, -1) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = ::read(p[i].fd, buf, sizeof buf);
            if (n <= 0) {
                p[i].fd = -1;
                --open_count;
                continue;
            }
            if (i == 1) said.append(buf, static_cast<size_t>(n));
            else if (!gone && !write(std::string_view(buf, static_cast<size_t>(n)))) gone = true;
        }
        // A client that left stops the copy: the helper's next write fails.
        if (gone && p[0].fd >= 0) {
            out_r.reset();
            p[0].fd = -1;
            --open_count;
        }
    }
    int code = wait_exit(*spawned);
    if (code != 0 && !gone) spdlog::warn("cp out of a container: {}", first_line(said));
}

// One line of json tells the client how the copy ended.
void answer(int client, const json& j) {
    std::string line = j.dump() + "\n";
    sys::send_all(client, line);
    ::shutdown(client, SHUT_RDWR);
}

// A tar from `read` (until it ends) to the helper's stdin; how it went.
json stream_in(const BodySource& read, std::string leftover, const std::vector<std::string>& args) {
    auto fail = [](const Error& e) { return json{{"error", {{"message", e.message}, {"code", e.status}}}}; };
    // A socket, not a pipe: a helper that quit early gives us EPIPE from
    // send(MSG_NOSIGNAL), never a SIGPIPE.
    auto in = sys::make_socketpair();
    if (!in) return fail(in.error());
    auto err = sys::make_pipe();
    if (!err) return fail(err.error());
    sys::UniqueFd to_helper = std::move(in->read), err_r = std::move(err->read);
    sys::SpawnOptions so;
    so.stdin_fd = in->write.get();
    so.stderr_fd = err->write.get();
    auto spawned = sys::spawn(args, so);
    in->write.reset();
    err->write.reset();
    if (!spawned) return fail(spawned.error());

    bool flowing = sys::send_all(to_helper.get(), leftover);
    char buf[65536];
    while (flowing) {
        long n = read(buf, sizeof buf);
        if (n <= 0) break;  // the client's side ended: the whole tar is here
        flowing = sys::send_all(to_helper.get(), std::string_view(buf, static_cast<size_t>(n)));
    }
    ::shutdown(to_helper.get(), SHUT_WR);
    std::string said = read_all(err_r.get());
    int code = wait_exit(*spawned);
    if (code == 0) return json{{"ok", true}};
    std::string message = first_line(said);
    if (message.empty()) message = "the copy helper exited with code " + std::to_string(code);
    return fail(make_error(code == 2 ? CTR_E_NOT_FOUND : CTR_E_INVALID_ARGUMENT, message));
}

// What an upgraded client sends, until it shuts its side.
BodySource from_fd(int fd) {
    return [fd](char* buf, size_t n) -> long {
        for (;;) {
            ssize_t got = ::read(fd, buf, n);
            if (got < 0 && errno == EINTR) continue;
            return static_cast<long>(got);
        }
    };
}

// A stopped container's root filesystem stays mounted while a copy reads or
// writes it. The hold goes before the client hears the copy ended: one that
// looks right after finds nothing mounted. (Held by the reply's callback, and
// a callback may be copied: all copies share this one holder.)
using Hold = std::shared_ptr<std::shared_ptr<void>>;
Hold shared_hold(std::shared_ptr<void> hold) { return std::make_shared<std::shared_ptr<void>>(std::move(hold)); }

}  // namespace

Result<json> path_stat(Containers& cs, const store::ContainerRecord& c, const std::string& path, bool follow) {
    auto hold = CTR_TRY(cs.hold_rootfs(c));
    return existing(cs, c, path, follow);
}

Result<std::function<void(const Writer&)>> path_tar(Containers& cs, const store::ContainerRecord& c, const std::string& path,
                                                     const std::string& top) {
    auto hold = CTR_TRY(cs.hold_rootfs(c));
    (void)CTR_TRY(existing(cs, c, path, false));
    auto args = helper_for(cs, c);
    args.insert(args.end(), {"out", path, "--prefix=" + top});
    return std::function<void(const Writer&)>([args, held = shared_hold(hold)](const Writer& write) {
        stream_out(args, write);
        held->reset();
    });
}

Status extract_into(Containers& cs, const store::ContainerRecord& c, const std::string& dir, const BodySource& read, bool keep_owner) {
    auto hold = CTR_TRY(cs.hold_rootfs(c));
    auto args = helper_for(cs, c);
    args.insert(args.end(), {"in", "--dest=" + dir, "--raw"});
    if (keep_owner) args.push_back("--archive");
    json result = stream_in(read, "", args);
    if (result.contains("error")) return make_error(result["error"].value("code", CTR_E_INTERNAL), result["error"].value("message", "copy failed"));
    return ok();
}

// export: the container's root filesystem as it sees it, its volumes and
// the kernel's filesystems (/proc, /sys) left out; the files the engine
// gives it (/etc/hosts, /etc/resolv.conf, /etc/hostname) with the
// contents and modes it sees, not the empty mount points beneath them.
Result<std::function<void(const Writer&)>> export_tar(Containers& cs, const store::ContainerRecord& c) {
    auto hold = CTR_TRY(cs.hold_rootfs(c));
    json binds = json::array();
    for (const auto& b : binds_of(cs, c))
        for (const char* own : {"/etc/hosts", "/etc/resolv.conf", "/etc/hostname"})
            if (b.value("destination", "") == own) binds.push_back(b);
    std::vector<std::string> args = {pluginhost::helper_path("container-cp").string(), "--rootfs",
                                     (cs.dir_of(c.id) / "rootfs").string(), "--binds", binds.dump(), "out", "/", "--no-prefix"};
    return std::function<void(const Writer&)>([args, held = shared_hold(hold)](const Writer& write) {
        stream_out(args, write);
        held->reset();
    });
}

void add_copy_routes(Router& r, Containers& cs) {
    r.add("GET", "/v1/containers/{id}/export", [&cs](const Request& req) -> Result<Reply> {
        Reply reply;
        reply.stream = CTR_TRY(export_tar(cs, CTR_TRY(cs.get(req.param("id")))));
        return reply;
    });
    r.add("GET", "/v1/containers/{id}/archive/stat", [&cs](const Request& req) -> Result<Reply> {
        auto c = CTR_TRY(cs.get(req.param("id")));
        auto path = CTR_TRY(container_path(req, "path"));
        auto hold = CTR_TRY(cs.hold_rootfs(c));
        return json_reply(stat_in(cs, c, path, req.flag("follow")));
    });
    r.add("GET", "/v1/containers/{id}/archive", [&cs](const Request& req) -> Result<Reply> {
        auto c = CTR_TRY(cs.get(req.param("id")));
        auto path = CTR_TRY(container_path(req, "path"));
        bool follow = req.flag("follow");
        auto hold = CTR_TRY(cs.hold_rootfs(c));
        (void)CTR_TRY(existing(cs, c, path, follow));  // a missing path is an error, not an empty stream
        auto args = helper_for(cs, c);
        args.insert(args.end(), {"out", path});
        if (follow) args.push_back("--follow");
        if (auto it = req.query.find("prefix"); it != req.query.end() && !it->second.empty()) args.push_back("--prefix=" + it->second);
        Reply reply;
        reply.stream = [args, held = shared_hold(hold)](const Writer& write) {
            stream_out(args, write);
            held->reset();
        };
        return reply;
    });
    r.add("POST", "/v1/containers/{id}/archive", [&cs](const Request& req) -> Result<Reply> {
        auto c = CTR_TRY(cs.get(req.param("id")));
        auto dest = CTR_TRY(container_path(req, "dest"));
        auto hold = CTR_TRY(cs.hold_rootfs(c));
        auto args = helper_for(cs, c);
        args.insert(args.end(), {"in", "--dest=" + dest});
        if (req.flag("raw")) args.push_back("--raw");
        else if (auto it = req.query.find("src"); it != req.query.end() && !it->second.empty()) args.push_back("--src=" + it->second);
        else return make_error(CTR_E_INVALID_ARGUMENT, "cp into a container needs ?src= (the source as named) or ?raw=1");
        if (req.flag("archive")) args.push_back("--archive");
        Reply reply;
        reply.status = 101;
        reply.upgrade = [args, held = shared_hold(hold)](int client, std::string leftover) {
            json result = stream_in(from_fd(client), std::move(leftover), args);
            held->reset();
            answer(client, result);
        };
        return reply;
    });
}

}  // namespace ctr::apiserver
