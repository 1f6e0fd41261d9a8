// GET /containers/{id}/changes and POST /commit: `docker diff` and `docker
// commit` on the same services as our own API (container_commit.hpp).
#include "apiserver/container_commit.hpp"
#include "apiserver/docker/docker_api.hpp"

namespace ctr::apiserver::docker {

using nlohmann::json;

void add_commit_routes(Router& r, Daemon& d, Containers& cs) {
    r.add("GET", "/containers/{id}/changes", [&cs](const Request& req) -> Result<Reply> {
        auto changes = container_changes(cs, req.param("id"));
        if (!changes) return docker_error(changes.error());
        return json_reply(*changes);
    });
    // ?container=&repo=&tag=&comment=&author=&pause=&changes= (one per
    // change); the body (a config to merge) is not read: -c says the same.
    r.add("POST", "/commit", [&d, &cs](const Request& req) -> Result<Reply> {
        auto q = [&](const std::string& k) {
            auto it = req.query.find(k);
            return it == req.query.end() ? std::string() : it->second;
        };
        std::string repo = q("repo"), tag = q("tag");
        json body = {{"comment", q("comment")}, {"author", q("author")}, {"changes", query_values(req.raw_query, "changes")}};
        if (!repo.empty()) body["reference"] = repo + ":" + (tag.empty() ? "latest" : tag);
        // The body: a ContainerConfig to merge (docker-py's conf=, the Engine
        // API's own); the docker CLI sends none.
        if (req.body.is_object() && !req.body.empty()) body["config"] = req.body;
        const std::string pause = q("pause");
        body["pause"] = !(pause == "0" || pause == "false" || pause == "False");
        auto parsed = CommitRequest::from_json(q("container"), body);
        if (!parsed) return parsed.error();
        auto done = commit_container(d, cs, *parsed);
        if (!done) return docker_error(done.error());
        return json_reply(json{{"Id", (*done)["Id"]}}, 201);
    });
}

}  // namespace ctr::apiserver::docker
