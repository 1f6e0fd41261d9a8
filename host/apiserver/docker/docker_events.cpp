// GET /events: the daemon's events in Docker's shape, as a stream of JSON
// objects: Type, Action, Actor {ID, Attributes}, scope, time, timeNano, and
// for containers and images the legacy status, id and from.
#include "apiserver/docker/docker_api.hpp"
#include "apiserver/event_stream.hpp"

namespace ctr::apiserver::docker {

using nlohmann::json;

namespace {

json docker_event(const services::Event& e) {
    json j = {{"Type", e.type},
              {"Action", e.action},
              {"Actor", {{"ID", e.id}, {"Attributes", e.attributes}}},
              {"scope", "local"},
              {"time", e.time_ns / 1000000000},
              {"timeNano", e.time_ns}};
    if (e.type == "container" || e.type == "image") {
        j["status"] = e.action;
        j["id"] = e.id;
        if (e.type == "container") j["from"] = e.attributes.value("image", "");
    }
    return j;
}

}  // namespace

void add_event_routes(Router& r, Daemon& d) {
    r.add("GET", "/events", [&d](const Request& req) -> Result<Reply> {
        EventQuery q = CTR_TRY(event_query_of(req));
        Reply reply;
        reply.content_type = "application/json";
        reply.stream = [&d, q](const Writer& write) {
            stream_events(d, q, [&](const services::Event& e) { return write(docker_event(e).dump() + "\n"); });
        };
        return reply;
    });
}

}  // namespace ctr::apiserver::docker
