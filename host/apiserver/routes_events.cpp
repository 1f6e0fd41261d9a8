// GET /v1/events: the daemon's events as JSON lines ({"type", "action",
// "id", "attributes", "time", "time_nano"}), for `container events`.
// ?since= and ?until= take unix seconds, RFC 3339 or a duration ago;
// ?filters= is a JSON map as Docker's (see event_stream.hpp).
#include "apiserver/event_stream.hpp"

#include <chrono>

namespace ctr::apiserver {

using nlohmann::json;

Result<EventQuery> event_query_of(const Request& req) {
    EventQuery q;
    const int64_t now =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (auto it = req.query.find("since"); it != req.query.end() && !it->second.empty()) q.since_ns = CTR_TRY(parse_event_time(it->second, now));
    if (auto it = req.query.find("until"); it != req.query.end() && !it->second.empty()) q.until_ns = CTR_TRY(parse_event_time(it->second, now));
    if (auto it = req.query.find("filters"); it != req.query.end() && !it->second.empty()) {
        json doc = json::parse(it->second, nullptr, false);
        if (!doc.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "filters: not a JSON object: " + it->second);
        for (const auto& [key, values] : doc.items()) {
            auto& list = q.filters[key];
            if (values.is_array()) {
                for (const auto& v : values)
                    if (v.is_string()) list.push_back(v);
            } else if (values.is_object()) {
                for (const auto& [v, on] : values.items())
                    if (on.is_boolean() && on.get<bool>()) list.push_back(v);
            }
        }
        CTR_TRY_STATUS(check_event_filters(q.filters));
    }
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
