// Docker's views on our own API: GET /v1/docker/{path*} answers as the
// Docker route GET /{path} would, in our dialect (errors as ours). Only
// plain replies: streams and upgrades belong on the Docker socket.
#include "apiserver/docker/docker_api.hpp"

namespace ctr::apiserver::docker {

void add_view_route(Router& ours, const Router& docker) {
    ours.add("GET", "/v1/docker/{path*}", [&docker](const Request& req) -> Result<Reply> {
        Request view = req;
        view.path = "/" + req.param("path");
        view.params.clear();
        auto reply = CTR_TRY(docker.dispatch(view));
        if (reply.stream || reply.upgrade || reply.text)
            return make_error(CTR_E_INVALID_ARGUMENT, "/v1/docker" + view.path + " does not answer with a JSON document");
        return reply;
    });
}

}  // namespace ctr::apiserver::docker
