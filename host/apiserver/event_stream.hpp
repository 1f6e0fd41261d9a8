// Reading the daemon's events for a client: the kept history from --since,
// then what happens next, until --until or the client goes. Shared by
// /v1/events (our CLI's `container events`) and Docker's /events.
#pragma once

#include "apiserver/daemon.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ctr::apiserver {

struct EventQuery {
    std::optional<int64_t> since_ns, until_ns;
    // filter -> values: type, container, image, label, event, network, volume
    // (values of one filter are alternatives; labels must all match).
    std::map<std::string, std::vector<std::string>> filters;
};

// A time as clients give it: unix seconds (with a fraction), RFC 3339, or a
// duration before `now_ns` ("10m", "1h30m", "45s").
Result<int64_t> parse_event_time(const std::string& text, int64_t now_ns);
// The filters a query may name; an error names another.
Status check_event_filters(const std::map<std::string, std::vector<std::string>>& filters);
bool event_matches(const services::Event& e, const EventQuery& q);

// Sends each matching event through `send` (false: the client went) until
// `until` passes or the daemon stops. Without `since`, only events from now.
// A request's ?since=, ?until= and ?filters= (a JSON map, both encodings).
Result<EventQuery> event_query_of(const Request& req);
void add_event_routes(Router& r, Daemon& d);  // GET /v1/events

void stream_events(Daemon& d, const EventQuery& q, const std::function<bool(const services::Event&)>& send);

}  // namespace ctr::apiserver
