#include "apiserver/container_routes.hpp"
#include "apiserver/container_commit.hpp"
#include "apiserver/list_filters.hpp"

#include "apiserver/health.hpp"
#include "api/mux_frame.hpp"
#include <ctr/sys/io.hpp>
#include <ctr/sys/log_index.hpp>

#include <spdlog/spdlog.h>

#include <csignal>
#include <fstream>
#include <poll.h>
#include <sys/socket.h>
#include <map>

namespace ctr::apiserver {

namespace fs = std::filesystem;
using nlohmann::json;

// Where the last `lines` lines of `file` begin (a last line without its
// newline counts as one). Reads backwards, a block at a time, down to the
// first line its bound kept.
std::streamoff tail_offset(const fs::path& file, int64_t lines) {
    std::ifstream in(file, std::ios::binary | std::ios::ate);
    if (!in) return 0;
    std::streamoff end = in.tellg(), pos = end;
    if (lines == 0) return end;
    const std::streamoff start = sys::log_start(file);
    int64_t seen = 0;
    char buf[8192];
    bool last_byte = true;
    while (pos > start) {
        std::streamoff n = std::min<std::streamoff>(pos - start, sizeof buf);
        pos -= n;
        in.seekg(pos);
        in.read(buf, n);
        for (std::streamoff i = n - 1; i >= 0; --i) {
            if (buf[i] == '\n' && !(last_byte && pos + i == end - 1) && ++seen == lines) return pos + i + 1;
            last_byte = false;
        }
    }
    return start;
}

namespace {

// Copies bytes both ways between an attached client and the shim until one
// side ends; the framing is theirs (api/attach_protocol.hpp).
void relay(int client, int shim, const std::string& leftover) {
    if (!sys::send_all(shim, leftover)) return;
    char buf[65536];
    for (;;) {
        pollfd fds[2] = {{client, POLLIN, 0}, {shim, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        for (int i = 0; i < 2; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n <= 0 || !sys::send_all(fds[1 - i].fd, std::string_view(buf, static_cast<size_t>(n)))) {
                ::shutdown(client, SHUT_RDWR);
                return;
            }
        }
    }
}

}  // namespace

namespace {

json with_health(Containers& cs, const store::ContainerRecord& c) {
    json j = c.to_json();
    json h = Health::of(c, cs.dir_of(c.id));
    if (!h.is_null()) j["health"] = h;
    return j;
}

// What a table of containers shows of a config: the published ports of
// each network attachment. ?summary=1 sends only that: with hundreds of
// containers the whole configs were most of the listing's time, here and
// in the CLI that parses them.
json summary_config(const json& config) {
    json attachments = json::array();
    for (const auto& a : config.value("network_attachments", json::array()))
        attachments.push_back({{"ports", a.value("ports", json::array())}});
    return {{"network_attachments", std::move(attachments)}};
}

int signal_of(const Request& req, int fallback) {
    auto it = req.query.find("signal");
    if (it == req.query.end() || it->second.empty()) return fallback;
    return signal_number(it->second);
}

}  // namespace

static void add_lifecycle_routes(Router& r, Daemon& d, Containers& cs) {
    r.add("POST", "/v1/containers", [&cs](const Request& req) -> Result<Reply> {
        return json_reply(CTR_TRY(cs.create(req.body)).to_json(), 201);
    });
    r.add("GET", "/v1/containers", [&cs, &d](const Request& req) -> Result<Reply> {
        std::vector<store::ContainerRecord> picked;
        for (auto& c : CTR_TRY(cs.list()))
            if (req.flag("all") || c.state == store::ContainerState::running) picked.push_back(std::move(c));
        // ?size=1: what each wrote, and that with its image ({"size_rw", "size_root_fs"}).
        const auto sizes = req.flag("size") ? container_sizes(d, picked) : std::map<std::string, json>{};
        const bool summary = req.flag("summary");
        json arr = json::array();
        for (auto& c : picked) {
            if (summary) c.config = summary_config(c.config);
            arr.push_back(with_health(cs, c));
            if (auto it = sizes.find(c.id); it != sizes.end())
                arr.back().update({{"size_rw", it->second["SizeRw"]}, {"size_root_fs", it->second["SizeRootFs"]}});
        }
        return json_reply(arr);
    });
    r.add("GET", "/v1/containers/{id}", [&cs](const Request& req) -> Result<Reply> {
        return json_reply(with_health(cs, CTR_TRY(cs.get(req.param("id")))));
    });
    r.add("POST", "/v1/containers/{id}/start", [&cs](const Request& req) -> Result<Reply> {
        return json_reply(CTR_TRY(cs.start(req.param("id"), req.flag("attach"))).to_json());
    });
}

static void add_exec_routes(Router& r, Containers& cs) {
    r.add("POST", "/v1/exec/{exec}/attach", [&cs](const Request& req) -> Result<Reply> {
        auto shim = std::make_shared<sys::UniqueFd>(CTR_TRY(cs.connect_exec(req.param("exec"))));
        Reply reply;
        reply.status = 101;
        reply.upgrade = [shim](int client, std::string leftover) { relay(client, shim->get(), leftover); };
        return reply;
    });
    r.add("POST", "/v1/exec/{exec}/wait", [&cs](const Request& req) -> Result<Reply> { return json_reply(cs.exec_wait(req.param("exec"))); });
    r.add("POST", "/v1/containers/{id}/attach", [&cs](const Request& req) -> Result<Reply> {
        auto shim = std::make_shared<sys::UniqueFd>(CTR_TRY(cs.connect_attach(req.param("id"))));
        Reply reply;
        reply.status = 101;
        reply.upgrade = [shim](int client, std::string leftover) { relay(client, shim->get(), leftover); };
        return reply;
    });
}

static void add_signal_routes(Router& r, Containers& cs) {
    r.add("POST", "/v1/containers/{id}/stop", [&cs](const Request& req) -> Result<Reply> {
        auto c = CTR_TRY(cs.get(req.param("id")));
        auto [t, sig] = Containers::stop_defaults(c);
        sig = signal_of(req, sig);
        if (sig < 0) return make_error(CTR_E_INVALID_ARGUMENT, "invalid signal \"" + req.query.at("signal") + "\"");
        if (auto it = req.query.find("t"); it != req.query.end()) t = std::max(0, std::atoi(it->second.c_str()));
        return json_reply(CTR_TRY(cs.stop(req.param("id"), t, sig)).to_json());
    });
    r.add("POST", "/v1/containers/{id}/restart", [&cs](const Request& req) -> Result<Reply> {
        auto it = req.query.find("t");
        return json_reply(CTR_TRY(cs.restart(req.param("id"), it == req.query.end() ? -1 : std::max(0, std::atoi(it->second.c_str())))).to_json());
    });
    r.add("POST", "/v1/containers/{id}/kill", [&cs](const Request& req) -> Result<Reply> {
        int sig = signal_of(req, SIGKILL);
        if (sig < 0) return make_error(CTR_E_INVALID_ARGUMENT, "invalid signal \"" + req.query.at("signal") + "\"");
        CTR_TRY_STATUS(cs.kill(req.param("id"), sig));
        return json_reply(json{{"signal", sig}});
    });
    r.add("POST", "/v1/containers/{id}/pause", [&cs](const Request& req) -> Result<Reply> {
        CTR_TRY_STATUS(cs.pause(req.param("id")));
        return json_reply(json::object());
    });
    r.add("POST", "/v1/containers/{id}/unpause", [&cs](const Request& req) -> Result<Reply> {
        CTR_TRY_STATUS(cs.unpause(req.param("id")));
        return json_reply(json::object());
    });
    r.add("POST", "/v1/containers/{id}/update", [&cs](const Request& req) -> Result<Reply> {
        return json_reply(CTR_TRY(cs.update(req.param("id"), req.body)).to_json());
    });
    r.add("POST", "/v1/containers/{id}/exec", [&cs](const Request& req) -> Result<Reply> {
        auto c = CTR_TRY(cs.get(req.param("id")));  // errors before the stream starts are plain errors
        if (c.state != store::ContainerState::running) return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is not running");
        // -i or -t: the client attaches to the exec next (/v1/exec/ID/attach).
        if (req.body.is_object() && req.body.value("detach", false)) return json_reply(cs.exec_detached(c.id, req.body), 201);
        if (req.body.is_object() && (req.body.value("tty", false) || req.body.value("interactive", false)))
            return json_reply(cs.exec_attached(c.id, req.body), 201);
        Reply reply;
        std::string id = c.id;
        json body = req.body;
        reply.stream = [&cs, id, body](const Writer& write) {
            if (auto st = cs.exec(id, body, write); !st)
                write(api::mux_frame(3, json{{"error", {{"message", st.error().message}, {"code", st.error().status}}}}.dump()));
        };
        return reply;
    });
}

static void add_log_routes(Router& r, Daemon& d, Containers& cs) {
    r.add("GET", "/v1/containers/{id}/logs", [&cs, &d](const Request& req) -> Result<Reply> {
        auto c = CTR_TRY(cs.get(req.param("id")));
        std::string stream = req.query.count("stream") ? req.query.at("stream") : "stdout";
        if (stream != "stdout" && stream != "stderr") return make_error(CTR_E_INVALID_ARGUMENT, "stream must be stdout or stderr");
        bool follow = req.flag("follow");
        int64_t tail = -1;  // -1: all
        if (req.query.count("tail") && req.query.at("tail") != "all") {
            const std::string& t = req.query.at("tail");
            if (t.empty() || t.size() > 9 || t.find_first_not_of("0123456789") != std::string::npos)
                return make_error(CTR_E_INVALID_ARGUMENT, "--tail \"" + t + "\": want a number of lines or all");
            tail = std::stoll(t);
        }
        // since: seconds since the epoch (fractions allowed): only output written from then on.
        int64_t since_ns = 0;
        if (auto it = req.query.find("since"); it != req.query.end()) since_ns = CTR_TRY(epoch_ns_of(it->second, "since"));
        const bool timestamps = req.flag("timestamps");
        // Output from before marks were kept shows the container's start time.
        const int64_t fallback_ns = c.started_at.value_or(c.created_at) * int64_t{1000000000};
        fs::path file = cs.dir_of(c.id) / (stream + ".log");
        std::string id = c.id;
        Reply reply;
        reply.stream = [&cs, &d, file, follow, id, tail, since_ns, timestamps, fallback_ns](const Writer& write) {
            std::streamoff offset = tail < 0 ? sys::log_start(file) : tail_offset(file, tail);
            if (since_ns > 0) {
                int64_t from = sys::LogIndex::read(file).first_offset_since(since_ns);
                std::error_code ec;
                if (from < 0) from = static_cast<int64_t>(fs::file_size(file, ec));  // nothing yet: only what comes
                offset = std::max<std::streamoff>(offset, from);
            }
            // With timestamps each line gets the time its first byte was written.
            sys::LineStamper stamps(file, fallback_ns);
            auto emit = [&](const std::string& chunk, std::streamoff at) { return write(timestamps ? stamps.stamp(chunk, at) : chunk); };
            for (;;) {
                offset = std::max<std::streamoff>(offset, sys::log_start(file));  // a reader the bound overtook
                std::ifstream in(file, std::ios::binary);
                in.seekg(offset);
                std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
                std::streamoff at = offset;
                offset += static_cast<std::streamoff>(chunk.size());
                if (!chunk.empty() && !emit(chunk, at)) return;
                if (!follow || d.stopping) return;
                auto now = cs.get(id);
                if (!now || now->state != store::ContainerState::running) {
                    // One last read: what was written before the exit.
                    std::ifstream last(file, std::ios::binary);
                    last.seekg(offset);
                    std::string rest((std::istreambuf_iterator<char>(last)), std::istreambuf_iterator<char>());
                    if (!rest.empty()) emit(rest, offset);
                    return;
                }
                cs.wait_for_shim(id, 50, true);  // new output shows within 50 ms; the end at once
            }
        };
        return reply;
    });
}

static void add_inspect_routes(Router& r, Daemon& d, Containers& cs) {
    r.add("POST", "/v1/containers/{id}/rename", [&cs](const Request& req) -> Result<Reply> {
        auto it = req.query.find("name");
        if (it == req.query.end()) return make_error(CTR_E_INVALID_ARGUMENT, "rename needs ?name=NEW");
        CTR_TRY_STATUS(cs.rename(req.param("id"), it->second));
        return json_reply(json{{"name", it->second}});
    });
    r.add("GET", "/v1/containers/{id}/top", [&cs](const Request& req) -> Result<Reply> {
        return json_reply(cs.top(req.param("id")));
    });
    r.add("GET", "/v1/containers/{id}/stats", [&cs](const Request& req) -> Result<Reply> {
        return json_reply(cs.stats(req.param("id")));
    });
    r.add("POST", "/v1/containers/{id}/wait", [&cs](const Request& req) -> Result<Reply> {
        std::atomic<bool> cancelled{false};
        return json_reply(cs.wait(req.param("id"), cancelled));
    });
    add_log_routes(r, d, cs);
}

Result<json> prune_containers(Containers& cs, const PruneFilters& keep) {
    json removed = json::array();
    int64_t reclaimed = 0;
    for (const auto& c : CTR_TRY(cs.list())) {
        if (c.state == store::ContainerState::running || !keep.allows(c.created_at, c.labels)) continue;
        const std::string writable = c.settings().writable_dir;
        int64_t size = writable.empty() ? 0 : services::disk_usage(writable);
        CTR_TRY_STATUS(cs.remove(c.id, false));
        removed.push_back(c.id);
        reclaimed += size;
    }
    return json{{"removed", removed}, {"reclaimed", reclaimed}};
}

Result<int64_t> epoch_ns_of(const std::string& t, const std::string& what) {
    // Digits exactly: a double holds no nanoseconds of this century's seconds.
    const size_t dot = t.find('.');
    const std::string whole = t.substr(0, dot), frac = dot == std::string::npos ? "" : t.substr(dot + 1);
    if (whole.empty() || whole.size() > 11 || whole.find_first_not_of("0123456789") != std::string::npos ||
        frac.find_first_not_of("0123456789") != std::string::npos)
        return make_error(CTR_E_INVALID_ARGUMENT, what + " \"" + t + "\": want seconds since the epoch");
    return std::stoll(whole) * 1000000000 + std::stoll((frac + "000000000").substr(0, 9));
}

static void add_removal_routes(Router& r, Containers& cs) {
    r.add("DELETE", "/v1/containers/{id}", [&cs](const Request& req) -> Result<Reply> {
        auto c = CTR_TRY(cs.get(req.param("id")));
        CTR_TRY_STATUS(cs.remove(c.id, req.flag("force"), req.flag("volumes")));
        return json_reply(json{{"id", c.id}, {"name", c.name}});
    });
    r.add("POST", "/v1/containers/prune", [&cs](const Request& req) -> Result<Reply> {
        return json_reply(prune_containers(cs, CTR_TRY(prune_filters_of(req))));
    });
}

// network connect / disconnect: {"container", "aliases"?, "ip"?}; the
// container's record as it is after.
static void add_network_join_routes(Router& r, Containers& cs) {
    auto body_of = [](const Request& req) -> Result<json> {
        const json& b = req.body;
        if (!b.is_object() || !b.contains("container") || !b["container"].is_string())
            return make_error(CTR_E_INVALID_ARGUMENT, "container: name the container to connect or disconnect");
        if (b.contains("aliases") && !b["aliases"].is_array()) return make_error(CTR_E_INVALID_ARGUMENT, "aliases: must be a list of names");
        if (b.contains("ip") && !b["ip"].is_string()) return make_error(CTR_E_INVALID_ARGUMENT, "ip: must be a string");
        return b;
    };
    r.add("POST", "/v1/networks/{name}/connect", [&cs, body_of](const Request& req) -> Result<Reply> {
        json b = CTR_TRY(body_of(req));
        auto c = CTR_TRY(cs.connect_network(b["container"], req.param("name"), b.value("aliases", json::array()), b.value("ip", "")));
        return json_reply(c.to_json());
    });
    r.add("POST", "/v1/networks/{name}/disconnect", [&cs, body_of](const Request& req) -> Result<Reply> {
        json b = CTR_TRY(body_of(req));
        return json_reply(CTR_TRY(cs.disconnect_network(b["container"], req.param("name"))).to_json());
    });
}

void add_container_routes(Router& r, Daemon& d, Containers& cs) {
    add_network_join_routes(r, cs);
    add_lifecycle_routes(r, d, cs);
    add_exec_routes(r, cs);
    add_signal_routes(r, cs);
    add_inspect_routes(r, d, cs);
    add_removal_routes(r, cs);
}

}  // namespace ctr::apiserver
