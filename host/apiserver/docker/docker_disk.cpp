// What `docker system prune` and `docker container/image prune` call: the
// prunes of containers and images, in Docker's shapes, on the services our
// own prunes use (networks and volumes are in docker_objects.cpp).
#include "apiserver/container_routes.hpp"
#include "apiserver/docker/docker_api.hpp"
#include "apiserver/image_service.hpp"
#include "apiserver/list_filters.hpp"

namespace ctr::apiserver::docker {

using nlohmann::json;

void add_prune_routes(Router& r, Daemon& d, Containers& cs) {
    // filters: until, label, label!.
    r.add("POST", "/containers/prune", [&cs](const Request& req) -> Result<Reply> {
        json pruned = CTR_TRY(prune_containers(cs, CTR_TRY(prune_filters_of(req))));
        json deleted = pruned["removed"].empty() ? json(nullptr) : pruned["removed"];
        return json_reply(json{{"ContainersDeleted", deleted}, {"SpaceReclaimed", pruned["reclaimed"]}});
    });
    // filters: dangling=false (prune -a: every image no container uses;
    // ours never dangle, so without it nothing goes), until, label, label!.
    r.add("POST", "/images/prune", [&d](const Request& req) -> Result<Reply> {
        const PruneFilters keep = CTR_TRY(prune_filters_of(req, true));
        json pruned = CTR_TRY(prune_images(d, keep, keep.dangling == false));
        json deleted = json::array();
        for (size_t i = 0; i < pruned["removed"].size(); ++i) {
            deleted.push_back({{"Untagged", pruned["removed"][i]}});
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
