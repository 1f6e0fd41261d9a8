// The image routes of the Docker API, on the image plugin: list, inspect,
// and create (a pull, its progress as Docker's JSON lines).
#include "apiserver/build/builder.hpp"
#include "apiserver/docker/docker_api.hpp"
#include "apiserver/list_filters.hpp"
#include "apiserver/image_service.hpp"

#include <ctr/pluginhost/call.hpp>

#include <ctime>
#include <mutex>

namespace ctr::apiserver::docker {

using nlohmann::json;

json image_summary(const json& i) {
    std::string ref = i.value("reference", "");
    // Created: unix seconds
    return {{"Id", i.value("digest", "")},
            {"ParentId", ""},
            {"RepoTags", is_untagged(ref) ? json::array() : json::array({ref})},
            {"RepoDigests", json::array()},
            {"Created", i.value("created", int64_t{0})},
            {"Size", i.value("size", int64_t{0})},
            {"VirtualSize", i.value("size", int64_t{0})},
            {"SharedSize", -1},
            {"Labels", json::object()},
            {"Containers", -1}};
}

namespace {

// Our progress events as Docker's: {"status", "id", "progressDetail"}.
json docker_progress(const json& e) {
    static const std::pair<const char*, const char*> words[] = {
        {"exists", "Already exists"}, {"download", "Downloading"}, {"done", "Download complete"}, {"unpack", "Extracting"}};
    std::string action = e.value("action", ""), status = action;
    for (const auto& [ours, theirs] : words)
        if (action == ours) status = theirs;
    json j = {{"status", status}, {"id", e.value("id", "")}};
    if (e.contains("current") && e.contains("total"))
        j["progressDetail"] = {{"current", e["current"]}, {"total", e["total"]}};
    return j;
}

bool looks_like_id(const std::string& name) {
    std::string hex = name.rfind("sha256:", 0) == 0 ? name.substr(7) : name;
    return hex.size() >= 12 && hex.size() <= 64 && hex.find_first_not_of("0123456789abcdef") == std::string::npos &&
           (name.size() != hex.size() || hex.size() == 64 || hex.size() == 12);
}

}  // namespace

Result<std::string> image_reference_of(Daemon& d, const std::string& name) {
    if (!looks_like_id(name)) return name;
    const std::string hex = name.rfind("sha256:", 0) == 0 ? name.substr(7) : name;
    auto* p = CTR_TRY(d.image_plugin());
    auto list = CTR_TRY(pluginhost::invoke(p->image()->list, p->instance(), json::object(), "list"));
    // A user's name first: a built image shares its digest with the builder's cached step.
    std::string cached;
    for (const auto& i : list) {
        const std::string digest = i.value("digest", "");
        if (digest.rfind("sha256:" + hex, 0) != 0) continue;
        const std::string ref = i.value("reference", name);
        if (!build::is_cache_reference(ref)) return ref;
        if (cached.empty()) cached = ref;
    }
    if (!cached.empty()) return cached;
    return name;  // not one of ours by id: maybe a name after all
}

namespace {

void add_list_routes(Router& r, Daemon& d) {
    r.add("GET", "/images/json", [&d](const Request& req) -> Result<Reply> {
        const Filters f = CTR_TRY(parse_filters(req, {"dangling", "label", "reference", "before", "since"}));
        auto* p = CTR_TRY(d.image_plugin());
        auto list = CTR_TRY(pluginhost::invoke(p->image()->list, p->instance(), json::object(), "list"));
        auto created_of = [&](const std::string& key) -> std::optional<int64_t> {
            for (const auto& i : list)
                if (i.value("reference", "") == key || i.value("digest", "").find(key) != std::string::npos) return i.value("created", int64_t{0});
            return std::nullopt;
        };
        json out = json::array();
        for (const auto& i : list) {
            const std::string ref = i.value("reference", "");
            if (build::is_cache_reference(ref)) continue;  // the builder's steps
            const int64_t created = i.value("created", int64_t{0});
            if (excluded(f, "dangling", [&](const std::string& v) { return (v == "true" || v == "1") == is_untagged(ref); })) continue;
            if (f.count("label") && !labels_match(f.at("label"), i.value("labels", json::object()))) continue;
            if (excluded(f, "reference", [&](const std::string& v) { return ref == v || ref.rfind(v + ":", 0) == 0 || ref.find("/" + v + ":") != std::string::npos; }))
                continue;
            if (excluded(f, "before", [&](const std::string& v) { auto t = created_of(v); return t && created < *t; })) continue;
            if (excluded(f, "since", [&](const std::string& v) { auto t = created_of(v); return t && created > *t; })) continue;
            out.push_back(image_summary(i));
        }
        Reply reply;
        reply.body = out;
        return reply;
    });
}

// tag, rmi, history
void add_edit_routes(Router& r, Daemon& d) {
    r.add("POST", "/images/{name*}/tag", [&d](const Request& req) -> Result<Reply> {
        auto repo = req.query.find("repo");
        if (repo == req.query.end() || repo->second.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "repo: the new name is required");
        auto tag = req.query.find("tag");
        const std::string target = repo->second + ":" + (tag == req.query.end() || tag->second.empty() ? "latest" : tag->second);
        const std::string source = CTR_TRY(image_reference_of(d, req.param("name")));
        auto tagged = tag_image(d, source, target);
        if (!tagged && tagged.error().status == CTR_E_NOT_FOUND) return make_error(CTR_E_NOT_FOUND, "No such image: " + req.param("name"));
        CTR_TRY(tagged);
        Reply reply;
        reply.status = 201;
        return reply;
    });
    r.add("DELETE", "/images/{name*}", [&d](const Request& req) -> Result<Reply> {
        const std::string reference = CTR_TRY(image_reference_of(d, req.param("name")));
        auto removed = remove_image(d, reference, req.flag("force"));
        if (!removed && removed.error().status == CTR_E_NOT_FOUND) return make_error(CTR_E_NOT_FOUND, "No such image: " + req.param("name"));
        if (!removed && removed.error().status == CTR_E_FAILED_PRECONDITION)
            return make_error(CTR_E_FAILED_PRECONDITION, "conflict: unable to remove repository reference \"" + req.param("name") +
                                                             "\" (must force) - " + removed.error().message);
        CTR_TRY(removed);
        return json_reply(json::array({{{"Untagged", removed->value("reference", reference)}}, {{"Deleted", removed->value("digest", "")}}}));
    });
    r.add("GET", "/images/{name*}/history", [&d](const Request& req) -> Result<Reply> {
        auto* p = CTR_TRY(d.image_plugin());
        const std::string reference = CTR_TRY(image_reference_of(d, req.param("name")));
        auto image = pluginhost::invoke(p->image()->resolve, p->instance(), {{"reference", reference}}, "resolve");
        if (!image && image.error().status == CTR_E_NOT_FOUND) return make_error(CTR_E_NOT_FOUND, "No such image: " + req.param("name"));
        CTR_TRY(image);
        // Each step that made a layer (not empty_layer) has the next layer's size.
        const json history = image->value("config", json::object()).value("history", json::array());
        const json layers = image->value("layers", json::array());
        std::vector<json> steps;
        size_t layer = 0;
        for (const auto& h : history) {
            int64_t size = 0;
            if (!h.value("empty_layer", false) && layer < layers.size()) size = layers[layer++].value("size", int64_t{0});
            std::tm tm{};
            const std::string created = h.value("created", "");
            const int64_t when = !created.empty() && strptime(created.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) ? static_cast<int64_t>(timegm(&tm)) : 0;
            steps.push_back({{"Id", "<missing>"}, {"Created", when}, {"CreatedBy", h.value("created_by", "")}, {"Tags", nullptr},
                             {"Size", size}, {"Comment", h.value("comment", "")}});
        }
        json out = json::array();
        for (auto it = steps.rbegin(); it != steps.rend(); ++it) out.push_back(*it);  // newest first
        if (!out.empty()) {
            out[0]["Id"] = image->value("digest", "");
            out[0]["Tags"] = json::array({image->value("reference", "")});
        }
        return json_reply(out);
    });
}

}  // namespace

void add_image_routes(Router& r, Daemon& d) {
    add_list_routes(r, d);
    add_edit_routes(r, d);
    r.add("GET", "/images/{name*}/json", [&d](const Request& req) -> Result<Reply> {
        auto* p = CTR_TRY(d.image_plugin());
        const std::string reference = CTR_TRY(image_reference_of(d, req.param("name")));
        auto image = pluginhost::invoke(p->image()->resolve, p->instance(), {{"reference", reference}}, "resolve");
        if (!image) {
            if (image.error().status == CTR_E_NOT_FOUND) return make_error(CTR_E_NOT_FOUND, "No such image: " + req.param("name"));
            return image.error();
        }
        json config = image->value("config", json::object());
        Reply reply;
        reply.body = {{"Id", image->value("digest", "")}, {"RepoTags", is_untagged(image->value("reference", "")) ? json::array() : json::array({image->value("reference", "")})},
                      {"RepoDigests", json::array()}, {"Created", config.value("created", "")}, {"Size", image->value("size", int64_t{0})},
                      {"Architecture", config.value("architecture", "")}, {"Os", config.value("os", "linux")},
                      {"Config", config.value("config", json::object())}, {"RootFS", config.value("rootfs", json::object())},
                      // Older clients (docker-compose 1.x) read the config here too.
                      {"ContainerConfig", config.value("config", json::object())}, {"Parent", ""}, {"Comment", ""},
                      {"Author", config.value("author", "")}, {"DockerVersion", ""}, {"VirtualSize", image->value("size", int64_t{0})},
                      {"GraphDriver", {{"Name", "overlay2"}, {"Data", nullptr}}}, {"Metadata", {{"LastTagTime", "0001-01-01T00:00:00Z"}}}};
        return reply;
    });
    // A pull: fromImage (and tag) named; Docker's progress lines, its error
    // inside the stream once the stream began.
    r.add("POST", "/images/create", [&d](const Request& req) -> Result<Reply> {
        auto from = req.query.find("fromImage");
        if (from == req.query.end() || from->second.empty())
            return make_error(CTR_E_INVALID_ARGUMENT, "only pulls are served here: fromImage is required (fromSrc imports are not)");
        std::string reference = from->second;
        if (auto tag = req.query.find("tag"); tag != req.query.end() && !tag->second.empty())
            reference += (tag->second.rfind("sha256:", 0) == 0 ? "@" : ":") + tag->second;
        auto* p = CTR_TRY(d.image_plugin());
        json pull = {{"reference", reference}, {"max_concurrent_downloads", d.config.registry_max_concurrent_downloads}};
        if (json a = registry_auth_of(req); !a.is_null()) pull["auth"] = a;
        else if (d.auth_for)
            if (auto ours = d.auth_for(reference); !ours.is_null()) pull["auth"] = ours;
        Reply reply;
        reply.content_type = "application/json";
        reply.stream = [&d, p, pull, reference](const Writer& write) {
            std::atomic<bool> gone{false};
            std::mutex mu;  // layer downloads report from several threads
            auto line = [&](const json& j) {
                std::lock_guard<std::mutex> lock(mu);
                if (!gone && !write(j.dump() + "\r\n")) gone = true;
            };
            line({{"status", "Pulling from " + reference}});
            auto result = pluginhost::invoke_with_progress(
                p->image()->pull, "pull", p->instance(), pull, [&](const json& e) { line(docker_progress(e)); },
                [&] { return gone.load() || d.stopping.load(); });
            if (!result) {
                line({{"errorDetail", {{"message", result.error().message}}}, {"error", result.error().message}});
                return;
            }
            d.events.publish("image", "pull", result->value("reference", reference), {{"name", result->value("reference", reference)}});
            line({{"status", "Digest: " + result->value("digest", "")}});
            line({{"status", "Status: Downloaded newer image for " + result->value("reference", reference)}});
        };
        return reply;
    });
}

}  // namespace ctr::apiserver::docker
