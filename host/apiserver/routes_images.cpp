// /v1/images: through the image plugin (image-oci by default).
#include "apiserver/build/builder.hpp"
#include "apiserver/daemon.hpp"
#include "apiserver/list_filters.hpp"
#include "apiserver/image_service.hpp"

#include <ctr/pluginhost/call.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <map>
#include <random>
#include <set>

namespace ctr::apiserver {

namespace {

using nlohmann::json;


// The bytes of every distinct layer an image list names.
int64_t stored_layer_bytes(const json& images) {
    std::map<std::string, int64_t> layers;
    for (const auto& i : images)
        for (const auto& l : i.value("layers", json::array())) layers[l.value("digest", "")] = l.value("size", int64_t{0});
    int64_t total = 0;
    for (const auto& [digest, size] : layers) total += size;
    return total;
}

Result<std::string> reference_param(const Request& req) {
    auto it = req.query.find("reference");
    if (it == req.query.end() || it->second.empty())
        return make_error(CTR_E_INVALID_ARGUMENT, "missing query parameter \"reference\"");
    return it->second;
}

// A 1.1 slot: a plugin built for 1.0 leaves it empty.
Status slot_11(bool present, const char* what) {
    if (!present) return make_error(CTR_E_UNIMPLEMENTED, std::string("the image plugin has no ") + what + " (it speaks ABI 1.0; " + what + " came in 1.1)");
    return ok();
}

Result<Reply> progress_reply(Daemon& d, ctr_progress_op op, const char* name, pluginhost::LoadedPlugin* p, json request);

}  // namespace

static void add_archive_routes(Router& r, Daemon& d) {
    r.add("POST", "/v1/images/tag", [&d](const Request& req) -> Result<Reply> {
        auto* p = CTR_TRY(d.image_plugin());
        ctr_op op = p->image()->tag;
        CTR_TRY_STATUS(slot_11(op != nullptr, "tag"));
        if (!req.body.is_object() || !req.body.contains("source") || !req.body.contains("target"))
            return make_error(CTR_E_INVALID_ARGUMENT, "tag needs a body {\"source\", \"target\"}");
        if (!req.body["source"].is_string() || !req.body["target"].is_string())
            return make_error(CTR_E_INVALID_ARGUMENT, "tag: source and target must be strings");
        return json_reply(tag_image(d, req.body["source"], req.body["target"]), 201);
    });
    r.add("POST", "/v1/images/save", [&d](const Request& req) -> Result<Reply> {
        if (!req.body.is_object() || !req.body.contains("references") || !req.body["references"].is_array())
            return make_error(CTR_E_INVALID_ARGUMENT, "save needs a body {\"references\": [...]}");
        Reply reply;
        reply.stream = CTR_TRY(save_images(d, req.body["references"].get<std::vector<std::string>>()));
        return reply;
    });
    r.add("POST", "/v1/images/import", [&d](const Request& req) -> Result<Reply> {
        auto* p = CTR_TRY(d.image_plugin());
        ctr_op op = p->image()->import_rootfs;
        CTR_TRY_STATUS(slot_11(op != nullptr, "import"));
        if (!req.body.is_object() || !req.body.contains("input") || !req.body.contains("reference"))
            return make_error(CTR_E_INVALID_ARGUMENT, "import needs a body {\"input\": \"/absolute/path.tar\", \"reference\"}");
        return json_reply(pluginhost::invoke(op, p->instance(), {{"input", req.body["input"]}, {"reference", req.body["reference"]}}, "import_rootfs"), 201);
    });
    r.add("POST", "/v1/images/load", [&d](const Request& req) -> Result<Reply> {
        auto* p = CTR_TRY(d.image_plugin());
        ctr_op op = p->image()->load;
        CTR_TRY_STATUS(slot_11(op != nullptr, "load"));
        if (!req.body.is_object() || !req.body.contains("input") || !req.body["input"].is_string())
            return make_error(CTR_E_INVALID_ARGUMENT, "load needs a body {\"input\": \"/absolute/path.tar\"}");
        return json_reply(load_images(d, req.body["input"]));
    });
}

// Prune: the nameless images no container was made from; with `all`,
// every image no container was made from.
Result<json> prune_images(Daemon& d, const PruneFilters& keep, bool all) {
    auto* p = CTR_TRY(d.image_plugin());
    json removed = json::array();
    // In use by image, not by name: a container made through one name keeps
    // every name of its image.
    std::set<std::string> used;
    {
        std::lock_guard<std::mutex> lock(d.store_mu);
        for (const auto& c : CTR_TRY(d.store->containers())) used.insert(c.image), used.insert(c.settings().image_digest);
    }
    json images = CTR_TRY(pluginhost::invoke(p->image()->list, p->instance(), json::object(), "list"));
    int64_t before = stored_layer_bytes(images);
    json digests = json::array();
    for (const auto& i : images) {
        std::string ref = i.value("reference", "");
        if (used.count(ref) || used.count(i.value("digest", "")) || (!all && !is_untagged(ref))) continue;
        if (build::is_cache_reference(ref)) continue;  // the builder's steps: `builder prune`'s
        json labels = json::object();
        if (!keep.label.empty() || !keep.label_not.empty())  // labels live in the image's config
            if (auto full = pluginhost::invoke(p->image()->resolve, p->instance(), {{"reference", ref}}, "resolve"); full)
                labels = full->value("config", json::object()).value("config", json::object()).value("Labels", json::object());
        if (!keep.allows(i.value("created", int64_t{0}), labels.is_object() ? labels : json::object())) continue;
        CTR_TRY(pluginhost::invoke(p->image()->remove, p->instance(), {{"reference", ref}}, "remove"));
        removed.push_back(is_untagged(ref) ? i.value("digest", "") : ref);  // a nameless one by its id
        digests.push_back(i.value("digest", ""));
    }
    json left = CTR_TRY(pluginhost::invoke(p->image()->list, p->instance(), json::object(), "list"));
    return json{{"removed", removed}, {"digests", digests}, {"reclaimed", before - stored_layer_bytes(left)}};
}

static void add_listing_routes(Router& r, Daemon& d) {
    r.add("GET", "/v1/images", [&d](const Request&) -> Result<Reply> {
        auto* p = CTR_TRY(d.image_plugin());
        json all = CTR_TRY(pluginhost::invoke(p->image()->list, p->instance(), json::object(), "list"));
        json shown = json::array();
        for (const auto& i : all) {  // the builder's cached steps are `builder du`'s
            if (build::is_cache_reference(i.value("reference", ""))) continue;
            shown.push_back(i);
            shown.back()["dangling"] = is_untagged(i.value("reference", ""));
        }
        return json_reply(shown);
    });
    r.add("GET", "/v1/images/inspect", [&d](const Request& req) -> Result<Reply> {
        auto* p = CTR_TRY(d.image_plugin());
        return json_reply(pluginhost::invoke(p->image()->resolve, p->instance(), {{"reference", CTR_TRY(reference_param(req))}}, "resolve"));
    });
    r.add("DELETE", "/v1/images", [&d](const Request& req) -> Result<Reply> {
        return json_reply(remove_image(d, CTR_TRY(reference_param(req)), req.flag("force")));
    });

    r.add("POST", "/v1/images/prune", [&d](const Request& req) -> Result<Reply> {
        return json_reply(prune_images(d, CTR_TRY(prune_filters_of(req)), req.flag("all")));
    });

    // Pull streams JSON lines: progress events, then {"result": ...} or {"error": ...}.
}

static void add_transfer_routes(Router& r, Daemon& d) {
    r.add("POST", "/v1/images/pull", [&d](const Request& req) -> Result<Reply> {
        auto* p = CTR_TRY(d.image_plugin());
        if (!req.body.is_object() || !req.body.contains("reference"))
            return make_error(CTR_E_INVALID_ARGUMENT, "pull needs a body {\"reference\": ...}");
        json pull = req.body;
        if (!pull.contains("max_concurrent_downloads"))
            pull["max_concurrent_downloads"] = d.config.registry_max_concurrent_downloads;
        return progress_reply(d, p->image()->pull, "pull", p, pull);
    });
    r.add("POST", "/v1/images/push", [&d](const Request& req) -> Result<Reply> {
        auto* p = CTR_TRY(d.image_plugin());
        CTR_TRY_STATUS(slot_11(p->image()->push != nullptr, "push"));
        if (!req.body.is_object() || !req.body.contains("reference") || !req.body["reference"].is_string())
            return make_error(CTR_E_INVALID_ARGUMENT, "push needs a body {\"reference\": ...}");
        return progress_reply(d, p->image()->push, "push", p, {{"reference", req.body["reference"]}});
    });
}

Result<std::optional<std::string>> image_user(Daemon& d, const std::string& reference) {
    auto* p = CTR_TRY(d.image_plugin());
    auto resolved = pluginhost::invoke(p->image()->resolve, p->instance(), {{"reference", reference}}, "resolve");
    if (!resolved) return std::optional<std::string>();
    std::string canonical = resolved->value("reference", reference);
    std::lock_guard<std::mutex> lock(d.store_mu);
    for (const auto& c : CTR_TRY(d.store->containers()))
        if (c.image == canonical) return std::optional<std::string>(c.name);
    return std::optional<std::string>();
}

namespace {

// The names of the image whose id `reference` is (all of it, or its first
// 12 or more digits), as `image ls` shows ids; empty when it is no id, or a
// name that reads the same.
std::vector<std::string> names_of_id(pluginhost::LoadedPlugin* p, const std::string& reference) {
    const std::string hex = reference.rfind("sha256:", 0) == 0 ? reference.substr(7) : reference;
    if (hex.size() < 12 || hex.size() > 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) return {};
    auto all = pluginhost::invoke(p->image()->list, p->instance(), json::object(), "list");
    if (!all) return {};
    std::vector<std::string> names;
    for (const auto& i : *all) {
        const std::string ref = i.value("reference", "");
        if (ref.find("/" + hex + ":") != std::string::npos) return {};  // a name wins, as the plugin decides
        if (i.value("digest", "").rfind("sha256:" + hex, 0) == 0) names.push_back(ref);
    }
    return names;
}

}  // namespace

Result<json> remove_image(Daemon& d, const std::string& reference, bool force) {
    auto* p = CTR_TRY(d.image_plugin());
    // By id, docker's rule: the image, not one of its names. With several
    // names that takes -f; forced, each name goes.
    const auto names = names_of_id(p, reference);
    std::string shown;
    int named = 0;
    for (const auto& n : names)
        if (!is_untagged(n)) shown += std::string(named++ ? ", " : "") + n;
    if (named > 1) {
        if (!force)
            return make_error(CTR_E_FAILED_PRECONDITION, "unable to delete " + reference + " (must be forced): the image has " +
                                                             std::to_string(named) + " names (" + shown + ")");
        json last;
        for (const auto& n : names) last = CTR_TRY(remove_image(d, n, true));
        return last;
    }
    // An image a container was made from stays unless forced (docker's
    // rule); forced, only the name goes while that container holds its layers.
    if (!force)
        if (auto user = CTR_TRY(image_user(d, reference)))
            return make_error(CTR_E_FAILED_PRECONDITION, "image " + reference + " is used by container " + *user +
                                                             " (remove the container first, or use -f)");
    auto removed = CTR_TRY(pluginhost::invoke(p->image()->remove, p->instance(), {{"reference", reference}}, "remove"));
    d.events.publish("image", "untag", removed.value("reference", reference), {{"name", removed.value("reference", reference)}});
    d.events.publish("image", "delete", removed.value("digest", reference), {{"name", removed.value("reference", reference)}});
    return removed;
}

bool is_untagged(const std::string& reference) { return reference.rfind(std::string(kUntaggedRepository) + ":", 0) == 0; }

std::string untagged_reference(const std::string& tag) {
    if (!tag.empty()) return std::string(kUntaggedRepository) + ":" + tag;
    std::random_device rd;
    std::string hex;
    for (int i = 0; i < 64; ++i) hex += "0123456789abcdef"[rd() % 16];
    return std::string(kUntaggedRepository) + ":" + hex;
}

Result<json> tag_image(Daemon& d, const std::string& source, const std::string& target) {
    auto* p = CTR_TRY(d.image_plugin());
    CTR_TRY_STATUS(slot_11(p->image()->tag != nullptr, "tag"));
    auto tagged = CTR_TRY(pluginhost::invoke(p->image()->tag, p->instance(), {{"source", source}, {"target", target}}, "tag"));
    d.events.publish("image", "tag", target, {{"name", target}});
    // A nameless image that got a name is nameless no more, as in docker;
    // but a container made from it keeps the name it was made by (its
    // record names its image so), and the listing shows it nameless too.
    if (const std::string digest = tagged.value("digest", ""); !digest.empty())
        if (auto all = pluginhost::invoke(p->image()->list, p->instance(), json::object(), "list"))
            for (const auto& i : *all) {
                const std::string ref = i.value("reference", "");
                if (i.value("digest", "") != digest || !is_untagged(ref)) continue;
                if (auto user = image_user(d, ref); !user || *user) continue;
                (void)pluginhost::invoke(p->image()->remove, p->instance(), {{"reference", ref}}, "remove");
            }
    return tagged;
}

Result<json> load_images(Daemon& d, const std::string& input) {
    auto* p = CTR_TRY(d.image_plugin());
    CTR_TRY_STATUS(slot_11(p->image()->load != nullptr, "load"));
    auto loaded = CTR_TRY(pluginhost::invoke(p->image()->load, p->instance(), {{"input", input}}, "load"));
    for (const auto& ref : loaded.value("loaded", json::array()))
        if (ref.is_string()) d.events.publish("image", "load", ref.get<std::string>(), {{"name", ref}});
    return loaded;
}

Result<std::function<void(const Writer&)>> save_images(Daemon& d, const std::vector<std::string>& references) {
    auto* p = CTR_TRY(d.image_plugin());
    ctr_op op = p->image()->save;
    CTR_TRY_STATUS(slot_11(op != nullptr, "save"));
    static std::atomic<int> counter{0};
    auto file = d.paths.run_dir() / ("save-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".tar");
    CTR_TRY(pluginhost::invoke(op, p->instance(), {{"references", references}, {"output", file.string()}}, "save"));
    return std::function<void(const Writer&)>([file](const Writer& write) {
        std::ifstream in(file, std::ios::binary);
        char buf[1 << 16];
        while (in.read(buf, sizeof buf) || in.gcount() > 0)
            if (!write(std::string_view(buf, static_cast<size_t>(in.gcount())))) break;
        std::error_code ec;
        std::filesystem::remove(file, ec);
    });
}

void add_image_routes(Router& r, Daemon& d) {
    add_archive_routes(r, d);
    add_listing_routes(r, d);
    add_transfer_routes(r, d);
}

namespace {

// Pull and push: JSON lines of progress, then {"result"} or {"error"}; the
// daemon's own login for the reference's registry goes with the request.
Result<Reply> progress_reply(Daemon& d, ctr_progress_op op, const char* name, pluginhost::LoadedPlugin* p, json request) {
        json pull = std::move(request);
        pull.erase("auth");  // only the daemon's own logins are ever sent
        if (d.auth_for && pull["reference"].is_string())
            if (auto a = d.auth_for(pull["reference"]); !a.is_null()) pull["auth"] = a;
        Reply reply;
        reply.stream = [&d, p, pull, op, name](const Writer& write) {
            std::atomic<bool> gone{false};
            std::mutex mu;  // layer downloads report from several threads
            auto line = [&](const json& j) {
                std::lock_guard<std::mutex> lock(mu);
                if (!gone && !write(j.dump() + "\n")) gone = true;
            };
            auto result = pluginhost::invoke_with_progress(
                op, name, p->instance(), pull, [&](const json& event) { line(event); },
                [&] { return gone.load() || d.stopping.load(); });
            if (result) {
                const std::string ref = result->value("reference", pull.value("reference", ""));
                d.events.publish("image", name, ref, {{"name", ref}});
                line({{"result", *result}});
            }
            else line({{"error", {{"message", result.error().message}, {"code", result.error().status}}}});
        };
        return reply;
}

}  // namespace

}  // namespace ctr::apiserver
