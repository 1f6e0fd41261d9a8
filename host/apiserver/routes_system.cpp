// /v1/ping, /v1/system/..., /v1/plugins
#include "apiserver/build/builder.hpp"
#include "apiserver/daemon.hpp"

#include <ctr/sys/cgroup.hpp>
#include <ctr/base/units.hpp>
#include <ctr/pluginhost/call.hpp>
#include "build_config.hpp"
#include <ctr/sys/files.hpp>

#include <chrono>
#include <map>
#include <set>
#include <fstream>
#include <thread>
#include <unistd.h>

namespace ctr::apiserver {

namespace {

using nlohmann::json;

// The last `tail` lines of `text` (all when tail < 0).
std::string last_lines(const std::string& text, long tail) {
    if (tail < 0) return text;
    size_t pos = text.size();
    if (pos > 0 && text[pos - 1] == '\n') --pos;
    for (long n = 0; n < tail && pos > 0; ++n) {
        size_t nl = text.rfind('\n', pos - 1);
        if (nl == std::string::npos) return text;
        pos = nl;
    }
    return tail == 0 ? "" : text.substr(pos == 0 ? 0 : pos + 1);
}

// `system df`: each row's TOTAL, ACTIVE (in use by a container), SIZE and
// RECLAIMABLE (what removing the unused ones would free). Image bytes are
// counted per layer, so a layer two tags share counts once.
Result<json> disk_usage(Daemon& d) {
    json images = json::array();
    if (auto p = d.image_plugin(); p)
        images = CTR_TRY(pluginhost::invoke((*p)->image()->list, (*p)->instance(), json::object(), "list"));
    std::lock_guard<std::mutex> lock(d.store_mu);
    auto containers = CTR_TRY(d.store->containers());
    auto volumes = CTR_TRY(d.store->volumes());

    std::set<std::string> used_images;
    int64_t running = 0, container_size = 0, container_reclaimable = 0;
    for (const auto& c : containers) {
        used_images.insert(c.image);
        running += c.state == store::ContainerState::running;
        const std::string writable = c.settings().writable_dir;
        int64_t size = writable.empty() ? 0 : services::disk_usage(writable);
        container_size += size;
        if (c.state != store::ContainerState::running) container_reclaimable += size;
    }

    std::map<std::string, int64_t> layer_size;     // digest -> bytes
    std::set<std::string> used_layers;
    int64_t image_active = 0, image_total = 0;
    for (const auto& i : images) {
        if (build::is_cache_reference(i.value("reference", ""))) continue;  // its own row
        ++image_total;
        bool used = used_images.count(i.value("reference", "")) > 0;
        image_active += used;
        for (const auto& l : i.value("layers", json::array())) {
            std::string digest = l.value("digest", "");
            layer_size[digest] = l.value("size", int64_t{0});
            if (used) used_layers.insert(digest);
        }
    }
    int64_t image_size = 0, image_reclaimable = 0;
    for (const auto& [digest, size] : layer_size) {
        image_size += size;
        if (!used_layers.count(digest)) image_reclaimable += size;
    }

    int64_t vol_size = 0, vol_active = 0, vol_reclaimable = 0, vol_total = 0;
    for (const auto& v : volumes) {
        if (v.state != "ready") continue;
        ++vol_total;
        int64_t size = services::disk_usage(d.volumes->dir_of(v.name));
        vol_size += size;
        auto users = CTR_TRY(d.store->volume_users(v.name));
        if (users.empty()) vol_reclaimable += size;
        else ++vol_active;
    }
    auto row = [](const char* type, int64_t total, int64_t active, int64_t size, int64_t reclaimable) {
        return json{{"type", type}, {"total", total}, {"active", active}, {"size", size}, {"reclaimable", reclaimable}};
    };
    const auto cache = build::cache_usage(images);
    return json::array({row("images", image_total, image_active, image_size, image_reclaimable),
                        row("containers", static_cast<int64_t>(containers.size()), running, container_size, container_reclaimable),
                        row("volumes", vol_total, vol_active, vol_size, vol_reclaimable),
                        row("build cache", cache.entries, 0, cache.size, cache.own)});
}

// The host's cgroup layout and who manages containers' cgroups
// (cgroup_manager.hpp).
json cgroup_status(const std::string& base, CgroupManager manager) {
    const sys::Cgroups cgroups;
    json j{{"version", sys::to_string(cgroups.version())}, {"manager", to_string(manager)}, {"v2_controllers", cgroups.v2_controllers()}};
    if (!base.empty()) j["delegated"] = base;  // rootless: the user's subtree
    return j;
}

}  // namespace

void add_system_routes(Router& r, Daemon& d) {
    r.add("GET", "/v1/ping", [](const Request&) { return json_reply(json{{"ok", true}}); });

    r.add("GET", "/v1/system/version", [](const Request&) {
        return json_reply(json{{"version", CTR_VERSION}, {"api_version", "v1"}, {"abi", std::to_string(CTR_ABI_MAJOR) + "." + std::to_string(CTR_ABI_MINOR)}});
    });

    r.add("GET", "/v1/system/status", [&d](const Request&) {
        return json_reply(json{{"running", true},
                               {"root", d.paths.root().string()},
                               {"version", CTR_VERSION},
                               {"pid", static_cast<int64_t>(getpid())},
                               {"started_at", d.started_at},
                               {"log", d.log_file().string()},
                               {"docker_socket", d.config.docker_api_enabled ? (d.paths.run_dir() / "docker.sock").string() : ""},
                               {"cgroup", !d.limits ? json{{"version", "none"}, {"manager", "none (rootless, no delegated cgroup)"}} : cgroup_status(d.cgroup_base, d.cgroup_manager)},
                               {"rootless", d.rootless},
                               {"id_mapping", !d.rootless ? "host" : d.single_id ? "single id" : "subordinate ranges"},
                               {"outbound", d.outbound}});
    });

    r.add("POST", "/v1/system/stop", [&d](const Request& req) -> Result<Reply> {
        if (req.flag("all") && d.stop_all_containers) CTR_TRY_STATUS(d.stop_all_containers());
        Reply reply;
        reply.body = json{{"stopping", true}};
        reply.after = [&d] {
            if (d.request_stop) d.request_stop();
        };
        return reply;
    });

    r.add("GET", "/v1/system/logs", [&d](const Request& req) -> Result<Reply> {
        long tail = -1;
        if (auto it = req.query.find("tail"); it != req.query.end() && !it->second.empty()) {
            try {
                tail = std::stol(it->second);
            } catch (...) {
                return make_error(CTR_E_INVALID_ARGUMENT, "tail must be a number, not \"" + it->second + "\"");
            }
        }
        bool follow = req.flag("follow");
        Reply reply;
        reply.stream = [&d, tail, follow](const Writer& write) {
            std::ifstream in(d.log_file(), std::ios::binary);
            std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            if (!write(last_lines(text, tail))) return;
            std::streamoff offset = static_cast<std::streamoff>(text.size());
            while (follow && !d.stopping) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                std::ifstream more(d.log_file(), std::ios::binary);
                more.seekg(offset);
                std::string chunk((std::istreambuf_iterator<char>(more)), std::istreambuf_iterator<char>());
                offset += static_cast<std::streamoff>(chunk.size());
                if (!chunk.empty() && !write(chunk)) return;  // the client went away
            }
        };
        return reply;
    });

    r.add("GET", "/v1/system/df", [&d](const Request&) { return json_reply(disk_usage(d)); });

    r.add("GET", "/v1/system/properties", [&d](const Request&) { return json_reply(d.properties()); });

    r.add("GET", "/v1/plugins", [&d](const Request&) {
        json arr = json::array();
        for (const auto& e : d.plugins->entries()) arr.push_back(e.to_json());
        return json_reply(arr);
    });

    r.add("GET", "/v1/plugins/{name}", [&d](const Request& req) -> Result<Reply> {
        const auto* e = d.plugins->find(req.param("name"));
        if (!e) return make_error(CTR_E_NOT_FOUND, "no plugin named \"" + req.param("name") + "\"");
        json j = e->to_json();
        j["description"] = e->description;
        return json_reply(j);
    });
}

}  // namespace ctr::apiserver
