// The container routes of the Docker API, on the container service: list,
// create, inspect, start, stop, restart, kill, wait, remove.
#include "apiserver/container_commit.hpp"
#include "apiserver/docker/docker_api.hpp"
#include "apiserver/list_filters.hpp"
#include "apiserver/docker/docker_sessions.hpp"
#include "apiserver/docker/docker_shapes.hpp"

#include <ctr/base/strings.hpp>
#include <ctr/sys/files.hpp>

#include <algorithm>
#include <regex>
#include <chrono>
#include <functional>
#include <csignal>
#include <ctime>
#include <thread>

namespace ctr::apiserver::docker {

using nlohmann::json;

namespace {

// Docker's name filter: a regular expression searched in the name, with or
// without its leading '/' ("^web$", "^/web"); one that is no valid
// expression, as a plain part of the name.
bool name_matches(const std::string& name, const std::string& pattern) {
    try {
        const std::regex re(pattern);
        return std::regex_search(name, re) || std::regex_search("/" + name, re);
    } catch (const std::regex_error&) {
        return name.find(pattern.front() == '/' ? pattern.substr(1) : pattern) != std::string::npos;
    }
}

// Whether `c` passes every filter of /containers/json.
// `place` orders containers by creation (larger: newer), as `place_of` gives another's.
bool matches(const Containers& cs, const store::ContainerRecord& c, const Filters& f, int64_t place,
             const std::function<std::optional<int64_t>(const std::string&)>& place_of) {
    if (excluded(f, "id", [&](const std::string& v) { return c.id.rfind(v, 0) == 0; })) return false;
    if (excluded(f, "name", [&](const std::string& v) { return name_matches(c.name, v); })) return false;
    if (f.count("label") && !labels_match(f.at("label"), c.labels)) return false;
    if (excluded(f, "status", [&](const std::string& v) { return v == docker_state(c); })) return false;
    if (excluded(f, "ancestor", [&](const std::string& v) {
            return c.image == v || c.image.rfind(v + ":", 0) == 0 || c.settings().image_digest.find(v) != std::string::npos;
        }))
        return false;
    if (excluded(f, "network", [&](const std::string& v) {
            auto names = network_names(c);
            return std::find(names.begin(), names.end(), v) != names.end();
        }))
        return false;
    if (excluded(f, "volume", [&](const std::string& v) {
            for (const auto& m : mounts_of(cs, c))
                if (m.value("Name", "") == v || m.value("Destination", "") == v || m.value("Source", "") == v) return true;
            return false;
        }))
        return false;
    if (excluded(f, "exited", [&](const std::string& v) {
            return c.state == store::ContainerState::stopped && std::to_string(c.exit_code.value_or(0)) == v;
        }))
        return false;
    if (excluded(f, "health", [&](const std::string& v) { return health_status(cs, c) == v; })) return false;
    if (excluded(f, "before", [&](const std::string& v) { auto t = place_of(v); return t && place < *t; })) return false;
    if (excluded(f, "since", [&](const std::string& v) { auto t = place_of(v); return t && place > *t; })) return false;
    return true;
}

Reply no_content(int status = 204) {
    Reply r;
    r.status = status;
    return r;
}


// pause, unpause, update: HostConfig's resources and RestartPolicy as our update's fields.
void add_pause_routes(Router& r, Containers& cs) {
    r.add("POST", "/containers/{id}/pause", [&cs](const Request& req) -> Result<Reply> {
        if (auto st = cs.pause(req.param("id")); !st) return docker_error(st.error());
        return no_content();
    });
    r.add("POST", "/containers/{id}/unpause", [&cs](const Request& req) -> Result<Reply> {
        if (auto st = cs.unpause(req.param("id")); !st) return docker_error(st.error());
        return no_content();
    });
    r.add("POST", "/containers/{id}/update", [&cs](const Request& req) -> Result<Reply> {
        const json& b = req.body.is_object() ? req.body : json::object();
        json changes = json::object();
        for (auto [key, as] : {std::pair{"Memory", "memory"}, {"MemorySwap", "memory_swap"}, {"MemoryReservation", "memory_reservation"},
                               {"CpuShares", "cpu_shares"}, {"PidsLimit", "pids_limit"}})
            if (b.contains(key) && b[key].is_number_integer() && b[key].get<int64_t>() != 0) changes[as] = b[key];
        if (b.value("NanoCpus", int64_t{0}) > 0) changes["cpus"] = b["NanoCpus"].get<double>() / 1e9;
        for (auto [key, as] : {std::pair{"CpusetCpus", "cpuset_cpus"}, {"CpusetMems", "cpuset_mems"}})
            if (b.contains(key) && b[key].is_string() && !b[key].get<std::string>().empty()) changes[as] = b[key];
        if (b.contains("RestartPolicy") && b["RestartPolicy"].is_object() && !b["RestartPolicy"].value("Name", "").empty()) {
            const std::string name = b["RestartPolicy"].value("Name", "");
            const int64_t max = b["RestartPolicy"].value("MaximumRetryCount", int64_t{0});
            changes["restart"] = name == "on-failure" && max > 0 ? name + ":" + std::to_string(max) : name;
        }
        auto c = cs.update(req.param("id"), changes);
        if (!c) return docker_error(c.error());
        Reply reply;
        reply.body = {{"Warnings", json::array()}};
        return reply;
    });
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
                    const uint64_t seen = cs.change_count();
                    auto now = cs.get(id);
                    if (!now || now->state != store::ContainerState::created || now->started_at || std::chrono::steady_clock::now() > give_up) break;
                    cs.wait_for_change(seen, 20);  // a start wakes us at once
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
    r.add("POST", "/containers/{id}/rename", [&cs](const Request& req) -> Result<Reply> {
        auto c = cs.get(req.param("id"));
        if (!c) return docker_error(c.error());
        auto it = req.query.find("name");
        if (it == req.query.end() || it->second.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "name: the new name is required");
        CTR_TRY_STATUS(cs.rename(c->id, it->second.front() == '/' ? it->second.substr(1) : it->second));
        return no_content();
    });
    r.add("DELETE", "/containers/{id}", [&cs](const Request& req) -> Result<Reply> {
        auto c = cs.get(req.param("id"));
        if (!c) return docker_error(c.error());
        CTR_TRY_STATUS(cs.remove(c->id, req.flag("force"), req.flag("v")));
        return no_content();
    });
}

}  // namespace

Error docker_error(Error e) {
    if (e.status == CTR_E_NOT_FOUND && e.message.rfind("no such image: ", 0) == 0) e.message = "No such image: " + e.message.substr(15);
    else if (e.status == CTR_E_NOT_FOUND && e.message.rfind("no such container: ", 0) == 0)
        e.message = "No such container: " + e.message.substr(19);
    return e;
}

void add_container_routes(Router& r, Daemon& d, Containers& cs, std::shared_ptr<Sessions> sessions) {
    r.add("GET", "/containers/json", [&cs, &d](const Request& req) -> Result<Reply> {
        const Filters f = CTR_TRY(parse_filters(req, {"id", "name", "label", "status", "ancestor", "network", "volume", "before",
                                                      "since", "exited", "health"}));
        auto all_records = CTR_TRY(cs.list());
        bool all = req.flag("all") || f.count("status") || f.count("exited");
        int64_t limit = -1;
        if (auto it = req.query.find("limit"); it != req.query.end() && !it->second.empty() && it->second != "-1") {
            limit = std::atoll(it->second.c_str());
            all = all || limit > 0;
        }
        // The list comes newest first (the store's order, exact within a
        // second): before/since name a container, and compare places in it.
        auto place_of = [&](const std::string& key) -> std::optional<int64_t> {
            for (size_t i = 0; i < all_records.size(); ++i)
                if (all_records[i].name == key || all_records[i].id.rfind(key, 0) == 0) return -static_cast<int64_t>(i);
            return std::nullopt;
        };
        std::vector<store::ContainerRecord> picked;
        for (size_t i = 0; i < all_records.size(); ++i) {
            const auto& c = all_records[i];
            if (!all && c.state != store::ContainerState::running) continue;
            if (!matches(cs, c, f, -static_cast<int64_t>(i), place_of)) continue;
            picked.push_back(c);
        }
        if (limit > 0 && static_cast<int64_t>(picked.size()) > limit) picked.resize(static_cast<size_t>(limit));
        const auto sizes = req.flag("size") ? container_sizes(d, picked) : std::map<std::string, json>{};
        json out = json::array();
        for (const auto& c : picked) {
            out.push_back(summary_of(cs, c));
            if (auto it = sizes.find(c.id); it != sizes.end()) out.back().update(it->second);
        }
        Reply reply;
        reply.body = out;
        return reply;
    });
    r.add("POST", "/containers/create", [&cs, &d](const Request& req) -> Result<Reply> {
        auto it = req.query.find("name");
        auto body = CTR_TRY(run_request_of(req.body, it == req.query.end() ? "" : it->second));
        body["image"] = CTR_TRY(image_reference_of(d, body["image"]));
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
    add_pause_routes(r, cs);
}

}  // namespace ctr::apiserver::docker
