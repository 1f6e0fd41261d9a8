// GET /v1/events: the daemon's events as JSON lines ({"type", "action",
// "id", "attributes", "time", "time_nano"}), for `container events`.
// ?since= and ?until= take unix seconds, RFC 3339 or a duration ago;
// ?filters= is a JSON map as Docker's (see event_stream.hpp).
#include "apiserver/event_stream.hpp"
#include "apiserver/list_filters.hpp"

#include <chrono>

namespace ctr::apiserver {

using nlohmann::json;

Result<EventQuery> event_query_of(const Request& req) {
    EventQuery q;
    const int64_t now =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (auto it = req.query.find("since"); it != req.query.end() && !it->second.empty()) q.since_ns = CTR_TRY(parse_event_time(it->second, now));
    if (auto it = req.query.find("until"); it != req.query.end() && !it->second.empty()) q.until_ns = CTR_TRY(parse_event_time(it->second, now));
    q.filters = CTR_TRY(parse_filters(req, {}));
    CTR_TRY_STATUS(check_event_filters(q.filters));
    return q;
}

void add_event_routes(Router& r, Daemon& d) {
    r.add("GET", "/v1/events", [&d](const Request& req) -> Result<Reply> {
        EventQuery q = CTR_TRY(event_query_of(req));
        Reply reply;
        reply.content_type = "application/json";
        reply.stream = [&d, q](const Writer& write) {
            stream_events(d, q, [&](const services::Event& e) { return write(e.to_json().dump() + "\n"); });
        };
        return reply;
    });
}

}  // namespace ctr::apiserver
