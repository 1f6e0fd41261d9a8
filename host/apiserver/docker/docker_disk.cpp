// What `docker system df`, `docker system prune` and `docker container/image
// prune` call: disk use, and the prunes of containers and images, in
// Docker's shapes, on the services our own use (network and volume prunes
// are in docker_objects.cpp).
#include "apiserver/build/builder.hpp"
#include "apiserver/container_commit.hpp"
#include "apiserver/container_routes.hpp"
#include "apiserver/docker/docker_shapes.hpp"
#include "apiserver/docker/docker_api.hpp"
#include "apiserver/image_service.hpp"
#include "apiserver/list_filters.hpp"
#include "services/volumes.hpp"

#include <ctr/base/strings.hpp>
#include <ctr/pluginhost/call.hpp>

#include <map>
#include <set>

namespace ctr::apiserver::docker {

using nlohmann::json;

namespace {

// GET /system/df: what `docker system df` tabulates. Images with how many
// containers use each, containers with their sizes, volumes with theirs.
Result<json> system_df(Daemon& d, Containers& cs) {
    auto* p = CTR_TRY(d.image_plugin());
    const json listed = CTR_TRY(pluginhost::invoke(p->image()->list, p->instance(), json::object(), "list"));
    const auto records = CTR_TRY(cs.list());
    std::map<std::string, int64_t> users;  // image reference -> containers made from it
    for (const auto& c : records) ++users[c.image];
    std::map<std::string, int64_t> layers;  // digest -> bytes, each once
    std::map<std::string, std::set<std::string>> holders;  // layer digest -> the images (by digest, not name) that have it
    for (const auto& i : listed)
        if (!build::is_cache_reference(i.value("reference", "")))
            for (const auto& l : i.value("layers", json::array())) {
                layers[l.value("digest", "")] = l.value("size", int64_t{0});
                holders[l.value("digest", "")].insert(i.value("digest", ""));
            }
    json images = json::array();
    for (const auto& i : listed) {
        const std::string ref = i.value("reference", "");
        if (build::is_cache_reference(ref)) continue;  // the builder's steps
        // SharedSize: its layers that another image has too. docker's df
        // leaves an image with -1 out of what is in use.
        int64_t shared = 0;
        for (const auto& l : i.value("layers", json::array()))
            if (holders[l.value("digest", "")].size() > 1) shared += l.value("size", int64_t{0});
        json shape = image_summary(i);
        shape["Containers"] = users.count(ref) ? users[ref] : 0;
        shape["SharedSize"] = shared;
        images.push_back(shape);
    }
    // Each layer once, and each image's own bytes beyond its layers (its
    // config and manifest) once: docker's df takes what is in use from it,
    // so it must hold every used image's whole size.
    int64_t layers_size = 0;
    for (const auto& [digest, size] : layers) layers_size += size;
    std::set<std::string> counted;
    for (const auto& i : listed) {
        if (build::is_cache_reference(i.value("reference", "")) || !counted.insert(i.value("digest", "")).second) continue;
        int64_t own = i.value("size", int64_t{0});
        for (const auto& l : i.value("layers", json::array())) own -= l.value("size", int64_t{0});
        if (own > 0) layers_size += own;
    }
    const auto sizes = container_sizes(d, records);
    json containers = json::array();
    for (const auto& c : records) {
        containers.push_back(summary_of(cs, c));
        if (auto it = sizes.find(c.id); it != sizes.end()) containers.back().update(it->second);
    }
    json volumes = json::array();
    for (const auto& v : CTR_TRY(d.volumes->list())) {
        json shape = volume_shape(v);
        shape["UsageData"] = {{"Size", services::disk_usage(v.mountpoint)}, {"RefCount", volume_used(d, v.name) ? 1 : 0}};
        volumes.push_back(shape);
    }
    // The builder's cached steps, each with its own bytes (docker's df sums
    // the records that are not Shared).
    json cache = json::array();
    const auto usage = build::cache_usage(listed);
    for (const auto& i : listed) {
        const std::string ref = i.value("reference", "");
        if (!build::is_cache_reference(ref)) continue;
        const std::string digest = i.value("digest", "");
        const std::string created = ctr::rfc3339(i.value("created", int64_t{0}));
        cache.push_back({{"ID", digest.substr(digest.find(':') + 1, 25)}, {"Parent", ""}, {"Type", "regular"}, {"Description", "a cached build step"},
                         {"InUse", false}, {"Shared", false}, {"Size", usage.own_by_reference.count(ref) ? usage.own_by_reference.at(ref) : 0},
                         {"CreatedAt", created}, {"LastUsedAt", created}, {"UsageCount", 1}});
    }
    return json{{"LayersSize", layers_size}, {"Images", images}, {"Containers", containers}, {"Volumes", volumes}, {"BuildCache", cache}};
}

}  // namespace

void add_prune_routes(Router& r, Daemon& d, Containers& cs) {
    r.add("GET", "/system/df", [&d, &cs](const Request&) -> Result<Reply> { return json_reply(system_df(d, cs)); });
    // filters: until, label, label!.
    r.add("POST", "/containers/prune", [&cs](const Request& req) -> Result<Reply> {
        json pruned = CTR_TRY(prune_containers(cs, CTR_TRY(prune_filters_of(req))));
        json deleted = pruned["removed"].empty() ? json(nullptr) : pruned["removed"];
        return json_reply(json{{"ContainersDeleted", deleted}, {"SpaceReclaimed", pruned["reclaimed"]}});
    });
    // filters: dangling=false (prune -a: every image no container uses;
    // without it, the nameless ones), until, label, label!.
    r.add("POST", "/images/prune", [&d](const Request& req) -> Result<Reply> {
        const PruneFilters keep = CTR_TRY(prune_filters_of(req, true));
        json pruned = CTR_TRY(prune_images(d, keep, keep.dangling == false));
        json deleted = json::array();
        for (size_t i = 0; i < pruned["removed"].size(); ++i) {
            if (pruned["removed"][i] != pruned["digests"][i]) deleted.push_back({{"Untagged", pruned["removed"][i]}});  // a nameless one has no name to lose
            deleted.push_back({{"Deleted", pruned["digests"][i]}});
        }
        return json_reply(json{{"ImagesDeleted", deleted.empty() ? json(nullptr) : deleted}, {"SpaceReclaimed", pruned["reclaimed"]}});
    });
    // No build cache of BuildKit's here: our builder's steps are images.
    r.add("POST", "/build/prune", [](const Request&) -> Result<Reply> {
        return json_reply(json{{"CachesDeleted", nullptr}, {"SpaceReclaimed", 0}});
    });
}

}  // namespace ctr::apiserver::docker
