#include "apiserver/event_stream.hpp"

#include <chrono>
#include <ctime>

namespace ctr::apiserver {

namespace {

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "1h30m10s" -> nanoseconds; nullopt when it is not a duration.
std::optional<int64_t> duration_ns(const std::string& text) {
    int64_t total = 0;
    std::string number;
    bool any = false;
    for (char ch : text) {
        if ((ch >= '0' && ch <= '9') || ch == '.') {
            number += ch;
            continue;
        }
        const int64_t unit = ch == 'h' ? 3600'000000000LL : ch == 'm' ? 60'000000000LL : ch == 's' ? 1'000000000LL : 0;
        if (unit == 0 || number.empty()) return std::nullopt;
        total += static_cast<int64_t>(std::stod(number) * static_cast<double>(unit));
        number.clear();
        any = true;
    }
    if (!number.empty() || !any) return std::nullopt;
    return total;
}

}  // namespace

Result<int64_t> parse_event_time(const std::string& text, int64_t now) {
    if (text.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "time: empty");
    if (text.find_first_not_of("0123456789.") == std::string::npos) {
        // Unix seconds, maybe with nanoseconds after the point (as docker sends "1700000000.000000001").
        const auto dot = text.find('.');
        int64_t seconds = std::stoll(text.substr(0, dot));
        int64_t nanos = 0;
        if (dot != std::string::npos) {
            std::string frac = text.substr(dot + 1, 9);
            while (frac.size() < 9) frac += '0';
            if (frac.find('.') != std::string::npos) return make_error(CTR_E_INVALID_ARGUMENT, "time \"" + text + "\": not a time");
            nanos = std::stoll(frac);
        }
        return seconds * 1000000000LL + nanos;
    }
    if (auto d = duration_ns(text)) return now - *d;
    std::tm tm{};
    const char* rest = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest && (*rest == 'Z' || *rest == '\0')) return static_cast<int64_t>(::timegm(&tm)) * 1000000000LL;
    return make_error(CTR_E_INVALID_ARGUMENT, "time \"" + text + "\": want unix seconds, RFC 3339 (2026-01-02T15:04:05Z) or a duration (10m)");
}

Status check_event_filters(const std::map<std::string, std::vector<std::string>>& filters) {
    for (const auto& [key, values] : filters) {
        (void)values;
        if (key != "type" && key != "container" && key != "image" && key != "label" && key != "event" && key != "network" && key != "volume")
            return make_error(CTR_E_INVALID_ARGUMENT, "invalid filter '" + key + "'");
    }
    return ok();
}

bool event_matches(const services::Event& e, const EventQuery& q) {
    auto any = [&](const char* key, const std::function<bool(const std::string&)>& pred) {
        auto it = q.filters.find(key);
        if (it == q.filters.end()) return true;
        for (const auto& v : it->second)
            if (pred(v)) return true;
        return false;
    };
    const auto attr = [&](const char* k) { return e.attributes.is_object() ? e.attributes.value(k, "") : std::string(); };
    if (!any("type", [&](const std::string& v) { return v == e.type; })) return false;
    // "exec_start: sh -c ..." is the event exec_start.
    if (!any("event", [&](const std::string& v) { return v == e.action || e.action.rfind(v + ":", 0) == 0; })) return false;
    if (!any("container", [&](const std::string& v) {
            return e.type == "container" && (e.id.rfind(v, 0) == 0 || attr("name") == v);
        }))
        return false;
    if (!any("image", [&](const std::string& v) { return attr("image") == v || (e.type == "image" && (e.id == v || attr("name") == v)); }))
        return false;
    if (!any("network", [&](const std::string& v) { return e.type == "network" && (e.id == v || attr("name") == v); })) return false;
    if (!any("volume", [&](const std::string& v) { return e.type == "volume" && e.id == v; })) return false;
    if (auto it = q.filters.find("label"); it != q.filters.end())
        for (const auto& want : it->second) {
            const auto eq = want.find('=');
            const std::string key = want.substr(0, eq);
            if (!e.attributes.is_object() || !e.attributes.contains(key)) return false;
            if (eq != std::string::npos && e.attributes.value(key, "") != want.substr(eq + 1)) return false;
        }
    return true;
}

void stream_events(Daemon& d, const EventQuery& q, const std::function<bool(const services::Event&)>& send) {
    uint64_t seq = 0;
    // The history first: from `since`, or none (only what happens next).
    for (const auto& e : d.events.after(0, 0)) {
        seq = e.seq;
        if (!q.since_ns || e.time_ns < *q.since_ns) continue;
        if (q.until_ns && e.time_ns > *q.until_ns) return;
        if (event_matches(e, q) && !send(e)) return;
    }
    while (!d.stopping) {
        if (q.until_ns && now_ns() > *q.until_ns) return;
        for (const auto& e : d.events.after(seq, 500)) {
            seq = e.seq;
            if (q.until_ns && e.time_ns > *q.until_ns) return;
            if (event_matches(e, q) && !send(e)) return;
        }
    }
}

}  // namespace ctr::apiserver
