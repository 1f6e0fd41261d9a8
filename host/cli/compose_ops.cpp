#include "cli/compose_ops.hpp"

#include <ctr/base/strings.hpp>
#include "cli/app.hpp"
#include "cli/build_client.hpp"
#include "compose/plan.hpp"
#include <ctr/sys/unique_fd.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <map>
#include <set>
#include <thread>

namespace ctr::cli {

Result<compose::Project> load_project(const ComposeFlags& f) {
    compose::LoadOptions o;
    o.files = f.files;
    o.project_name = f.project;
    o.env_files = f.env_files;
    std::error_code ec;
    o.working_dir = f.project_dir.empty() ? std::filesystem::current_path(ec) : std::filesystem::path(f.project_dir);
    o.environment = [](const std::string& k) -> std::optional<std::string> {
        const char* v = std::getenv(k.c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
    };
    auto p = CTR_TRY(compose::load(o));
    for (const auto& w : p.warnings) std::fprintf(stderr, "container compose: warning: %s\n", w.c_str());
    return p;
}

using nlohmann::json;
namespace cp = ctr::compose;

namespace {

void say(const std::string& what, const std::string& name) { std::fprintf(stderr, " %-10s %s\n", what.c_str(), name.c_str()); }

bool labelled(const json& obj, const std::string& project) {
    return obj.contains("labels") && obj["labels"].is_object() && obj["labels"].value(cp::kProjectLabel, "") == project;
}

// A listener on the host at ip:port would have its traffic taken by our
// DNAT rule: up refuses before it makes anything.
Status host_port_free(const json& p) {
    bool udp = p["protocol"] == "udp";
    sys::UniqueFd fd(::socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return ok();
    int one = 1;
    if (!udp) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(p["port"].get<int>()));
    std::string ip = p["host_ip"];
    if (ip.empty() || ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) a.sin_addr.s_addr = INADDR_ANY;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == EADDRINUSE)
        return make_error(CTR_E_ALREADY_EXISTS, "port " + (ip.empty() ? std::string("0.0.0.0") : ip) + ":" +
                                                    std::to_string(p["port"].get<int>()) + "/" + p["protocol"].get<std::string>() +
                                                    " is already in use on the host");
    return ok();
}

// What up made in this call, undone when a later step fails.
struct Undo {
    const api::Client& client;
    std::vector<std::string> containers, networks, volumes;
    void run() {
        for (auto it = containers.rbegin(); it != containers.rend(); ++it)
            (void)client.call("DELETE", "/v1/containers/" + url_escape(*it) + "?force=1&volumes=1");
        for (const auto& n : networks) (void)client.call("DELETE", "/v1/networks/" + url_escape(n));
        for (const auto& v : volumes) (void)client.call("DELETE", "/v1/volumes/" + url_escape(v));
    }
};

// depends_on's conditions on one dependency's container.
Status wait_condition(const api::Client& client, const std::string& service, const std::string& dep, const std::string& container,
                      const std::string& condition, int timeout_s) {
    if (condition == "service_started") return ok();
    if (condition == "service_completed_successfully") {
        auto r = CTR_TRY(client.call("POST", "/v1/containers/" + url_escape(container) + "/wait"));
        int code = r.value("exit_code", -1);
        if (code != 0)
            return make_error(CTR_E_FAILED_PRECONDITION, "service " + service + ": dependency " + dep + " exited with code " + std::to_string(code));
        return ok();
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    bool told = false;
    for (;;) {
        auto c = CTR_TRY(client.call("GET", "/v1/containers/" + url_escape(container)));
        if (!c.contains("health") || !c["health"].is_object())
            return make_error(CTR_E_FAILED_PRECONDITION, "service " + service + ": dependency " + dep + " has no healthcheck to wait for");
        std::string status = c["health"].value("status", "");
        if (status == "healthy") return ok();
        if (status == "unhealthy") return make_error(CTR_E_FAILED_PRECONDITION, "service " + service + ": dependency " + dep + " is unhealthy");
        if (c.value("state", "") != "running")
            return make_error(CTR_E_FAILED_PRECONDITION, "service " + service + ": dependency " + dep + " stopped before it was healthy");
        if (!told) {
            say("Waiting", container + " (healthy)");
            told = true;
        }
        if (std::chrono::steady_clock::now() > deadline)
            return make_error(CTR_E_DEADLINE_EXCEEDED, "service " + service + ": dependency " + dep + " not healthy after " + std::to_string(timeout_s) + " s");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

}  // namespace

Status build_service(const api::Client& client, const cp::Project& project, const std::string& service, bool no_cache, bool pull) {
    const json& s = project.model["services"][service];
    const json& b = s["build"];
    BuildOptions o;
    o.context = b["context"].get<std::string>();
    if (b.contains("dockerfile")) {
        std::filesystem::path f = b["dockerfile"].get<std::string>();
        o.file = (f.is_absolute() ? f : std::filesystem::path(o.context) / f).string();  // compose: relative to the context
    }
    o.target = b.value("target", "");
    o.tags = {s["image"].get<std::string>()};
    o.no_cache = no_cache;
    o.pull = pull;
    std::fprintf(stderr, "Building %s\n", service.c_str());
    auto built = build_image(client, o, b.value("args", json::object()), b.value("labels", json::object()));
    if (!built) return built.error().wrap("service " + service + ": build");
    return ok();
}

namespace {

Status ensure_image(const api::Client& client, const cp::Project& project, const std::string& service, const std::string& progress) {
    const json& s = project.model["services"][service];
    std::string image = s["image"];
    if (client.call("GET", "/v1/images/inspect?reference=" + url_escape(image))) return ok();
    if (s.contains("build")) return build_service(client, project, service, false, false);
    auto pulled = pull_image(client, image, s.value("platform", ""), 0, progress);
    if (!pulled) return pulled.error().wrap("service " + service + ": pull " + image);
    return ok();
}

Status up_networks_and_volumes(const api::Client& client, const cp::Project& project, const std::vector<std::string>& order, Undo& undo) {
    std::set<std::string> nets, vols;
    for (const auto& svc : order) {
        const json& s = project.model["services"][svc];
        if (s.contains("networks"))
            for (const auto& [n, spec] : s["networks"].items()) nets.insert(n);
        for (const auto& m : s["volumes"])
            if (m["type"] == "volume" && !m["source"].get<std::string>().empty()) vols.insert(m["source"].get<std::string>());
    }
    for (const auto& key : nets) {
        const json& n = project.model["networks"][key];
        std::string name = n["name"];
        auto found = client.call("GET", "/v1/networks/" + url_escape(name));
        if (found) continue;
        if (found.error().status != CTR_E_NOT_FOUND) return found.error();
        if (n["external"].get<bool>())
            return make_error(CTR_E_NOT_FOUND, "network " + name + " is declared external, but could not be found");
        json labels = n["labels"];
        labels[cp::kProjectLabel] = project.name;
        labels[cp::kNetworkLabel] = key;
        json body = {{"name", name}, {"internal", n["internal"]}, {"labels", labels}};
        if (n.contains("subnet")) body["subnet"] = n["subnet"];
        if (n.contains("gateway")) body["gateway"] = n["gateway"];
        CTR_TRY_STATUS(client.call("POST", "/v1/networks", body));
        undo.networks.push_back(name);
        say("Created", "network " + name);
    }
    for (const auto& key : vols) {
        const json& v = project.model["volumes"][key];
        std::string name = v["name"];
        auto found = client.call("GET", "/v1/volumes/" + url_escape(name));
        if (found) continue;
        if (found.error().status != CTR_E_NOT_FOUND) return found.error();
        if (v["external"].get<bool>()) return make_error(CTR_E_NOT_FOUND, "volume " + name + " is declared external, but could not be found");
        json labels = v["labels"];
        labels[cp::kProjectLabel] = project.name;
        labels[cp::kVolumeLabel] = key;
        CTR_TRY_STATUS(client.call("POST", "/v1/volumes", json{{"name", name}, {"labels", labels}}));
        undo.volumes.push_back(name);
        say("Created", "volume " + name);
    }
    return ok();
}

}  // namespace

std::string service_of(const json& c) {
    if (!c.contains("labels") || !c["labels"].is_object()) return "";
    return c["labels"].value(cp::kServiceLabel, "");
}

json container_of(const std::vector<json>& containers, const std::string& service) {
    for (const auto& c : containers)
        if (service_of(c) == service) return c;
    return nullptr;
}

Result<std::vector<json>> project_containers(const api::Client& client, const std::string& project) {
    auto all = CTR_TRY(client.call("GET", "/v1/containers?all=1"));
    std::vector<json> out;
    for (const auto& c : all)
        if (labelled(c, project)) out.push_back(c);
    return out;
}

namespace {

// The digest each image reference of a project names now, asked once per
// reference however many services share it ("" for a reference that names
// no image).
class ImageDigests {
public:
    explicit ImageDigests(const api::Client& client) : client_(client) {}

    Result<std::string> of(const std::string& reference) {
        if (auto known = digests_.find(reference); known != digests_.end()) return known->second;
        std::string digest;
        auto now = client_.call("GET", "/v1/images/inspect?reference=" + url_escape(reference));
        if (now) digest = now->value("digest", "");
        else if (now.error().status != CTR_E_NOT_FOUND) return now.error();
        return digests_[reference] = digest;
    }

    // Whether the image `reference` names now is not the one `container`
    // was made from (a build or a pull since): docker compose makes it
    // again then. A reference that names no image now changes nothing.
    Result<bool> changed(const json& container, const std::string& reference) {
        const json config = container.value("config", json::object());
        const std::string made_from = config.is_object() ? config.value("image_digest", "") : "";
        if (made_from.empty() || reference.empty()) return false;
        const std::string digest = CTR_TRY(of(reference));
        return !digest.empty() && digest != made_from;
    }

private:
    const api::Client& client_;
    std::map<std::string, std::string> digests_;
};

}  // namespace

Status compose_up(const api::Client& client, const cp::Project& project, const UpOptions& o) {
    auto order = CTR_TRY(cp::start_order(project, o.services));
    if (o.build)
        for (const auto& svc : order)
            if (project.model["services"][svc].contains("build")) CTR_TRY_STATUS(build_service(client, project, svc, false, false));
    auto existing = CTR_TRY(project_containers(client, project.name));

    // First everything that can fail without changing anything: ports, images.
    struct Step {
        std::string service, action;  // keep, start, create, recreate
        json body, current;
    };
    std::vector<Step> steps;
    ImageDigests images(client);
    for (const auto& svc : order) {
        Step st{svc, "create", cp::create_body(project, svc), container_of(existing, svc)};
        if (!st.current.is_null()) {
            bool same = st.current["labels"].value(cp::kHashLabel, "") == st.body["labels"][cp::kHashLabel] &&
                        !CTR_TRY(images.changed(st.current, st.body.value("image", "")));
            st.action = !same ? "recreate" : st.current["state"] == "running" ? "keep" : "start";
        }
        if (st.action == "create" || st.action == "recreate")
            for (const auto& p : cp::host_ports(project, svc))
                if (auto free = host_port_free(p); !free) return free.error().wrap("service " + svc);
        steps.push_back(std::move(st));
    }
    for (const auto& st : steps)
        if (st.action == "create" || st.action == "recreate") CTR_TRY_STATUS(ensure_image(client, project, st.service, o.progress));

    Undo undo{client, {}, {}, {}};
    auto failed = [&](const Error& e) -> Status {
        undo.run();
        return e;
    };
    if (auto made = up_networks_and_volumes(client, project, order, undo); !made) return failed(made.error());

    for (auto& st : steps) {
        std::string name = st.body["name"];
        for (const auto& [dep, spec] : project.model["services"][st.service]["depends_on"].items()) {
            if (!project.model["services"].contains(dep)) continue;
            auto waited = wait_condition(client, st.service, dep, cp::container_name(project, dep), spec["condition"], o.wait_timeout_s);
            if (!waited) return failed(waited.error());
        }
        if (st.action == "keep") {
            say("Running", name);
            continue;
        }
        if (st.action == "start") {
            if (auto r = client.call("POST", "/v1/containers/" + url_escape(name) + "/start"); !r) return failed(r.error());
            say("Started", name);
            continue;
        }
        if (st.action == "recreate") {
            // Its stop signal and grace period first, as a stop would: the
            // old one may have state to write before it goes.
            std::string old_id = st.current["id"];
            if (st.current.value("state", "") == "running")
                if (auto stopped = client.call("POST", "/v1/containers/" + old_id + "/stop"); !stopped) return failed(stopped.error());
            auto removed = client.call("DELETE", "/v1/containers/" + url_escape(old_id) + "?force=1");
            if (!removed) return failed(removed.error());
        }
        auto created = client.call("POST", "/v1/containers", st.body);
        if (!created) return failed(created.error().wrap("service " + st.service));
        undo.containers.push_back((*created)["id"]);
        if (auto r = client.call("POST", "/v1/containers/" + url_escape(name) + "/start"); !r) return failed(r.error().wrap("service " + st.service));
        say(st.action == "recreate" ? "Recreated" : "Started", name);
    }

    // Containers of services the files no longer have.
    for (const auto& c : existing) {
        std::string svc = service_of(c);
        if (project.model["services"].contains(svc)) continue;
        if (o.remove_orphans) {
            (void)client.call("DELETE", "/v1/containers/" + url_escape(c["id"].get<std::string>()) + "?force=1");
            say("Removed", c["name"].get<std::string>() + " (orphan)");
        } else {
            std::fprintf(stderr, "container compose: warning: %s belongs to service \"%s\", which the files no longer have (--remove-orphans removes it)\n",
                         c["name"].get<std::string>().c_str(), svc.c_str());
        }
    }
    return ok();
}

namespace {

// The services a container's service depends on, from its label.
std::set<std::string> dependencies_of(const json& c) {
    std::set<std::string> out;
    std::string text = c.value("labels", json::object()).value(cp::kDependsOnLabel, "");
    for (size_t start = 0; start < text.size();) {
        size_t comma = text.find(',', start);
        std::string entry = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!entry.empty()) out.insert(entry.substr(0, entry.find(':')));
        start = comma == std::string::npos ? text.size() : comma + 1;
    }
    return out;
}

}  // namespace

Status stop_in_order(const api::Client& client, const std::vector<json>& containers) {
    std::vector<json> left;
    for (const auto& c : containers)
        if (c.value("state", "") == "running") left.push_back(c);
    Status first = ok();
    while (!left.empty()) {
        // This level: what no container still running depends on.
        std::set<std::string> needed;
        for (const auto& c : left)
            for (const auto& d : dependencies_of(c)) needed.insert(d);
        std::vector<json> level, later;
        for (const auto& c : left) (needed.count(service_of(c)) ? later : level).push_back(c);
        if (level.empty()) level.swap(later);  // a cycle the files should not have: all at once
        std::vector<std::future<Result<json>>> stops;
        for (const auto& c : level)
            stops.push_back(std::async(std::launch::async, [&client, id = c["id"].get<std::string>()] {
                return client.call("POST", "/v1/containers/" + id + "/stop");
            }));
        for (size_t i = 0; i < stops.size(); ++i) {
            auto r = stops[i].get();
            if (!r && first) first = r.error();
            else if (r) say("Stopped", level[i]["name"].get<std::string>());
        }
        left.swap(later);
    }
    return first;
}

Status compose_down(const api::Client& client, const std::string& project, bool volumes) {
    auto containers = CTR_TRY(project_containers(client, project));
    CTR_TRY_STATUS(stop_in_order(client, containers));
    for (const auto& c : containers) {
        std::string id = c["id"];
        CTR_TRY_STATUS(client.call("DELETE", "/v1/containers/" + id + "?force=1" + (volumes ? "&volumes=1" : "")));
        say("Removed", c["name"].get<std::string>());
    }
    auto nets = CTR_TRY(client.call("GET", "/v1/networks"));
    for (const auto& n : nets)
        if (labelled(n, project)) {
            CTR_TRY_STATUS(client.call("DELETE", "/v1/networks/" + url_escape(n["name"].get<std::string>())));
            say("Removed", "network " + n["name"].get<std::string>());
        }
    if (volumes) {
        auto vols = CTR_TRY(client.call("GET", "/v1/volumes"));
        for (const auto& v : vols)
            if (labelled(v, project)) {
                CTR_TRY_STATUS(client.call("DELETE", "/v1/volumes/" + url_escape(v["name"].get<std::string>())));
                say("Removed", "volume " + v["name"].get<std::string>());
            }
    }
    return ok();
}

}  // namespace ctr::cli
