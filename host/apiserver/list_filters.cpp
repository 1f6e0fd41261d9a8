#include "apiserver/list_filters.hpp"

#include "apiserver/event_stream.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace ctr::apiserver {

using nlohmann::json;

Result<Filters> parse_filters(const Request& req, std::initializer_list<const char*> known) {
    Filters out;
    auto it = req.query.find("filters");
    if (it == req.query.end() || it->second.empty()) return out;
    json doc = json::parse(it->second, nullptr, false);
    if (!doc.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "filters: not a JSON object: " + it->second);
    for (const auto& [key, values] : doc.items()) {
        if (known.size() > 0 && std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; }))
            return make_error(CTR_E_INVALID_ARGUMENT, "invalid filter '" + key + "'");
        auto& list = out[key];
        if (values.is_array()) {
            for (const auto& v : values)
                if (v.is_string()) list.push_back(v);
        } else if (values.is_object()) {
            for (const auto& [v, on] : values.items())
                if (on.is_boolean() && on.get<bool>()) list.push_back(v);
        } else {
            return make_error(CTR_E_INVALID_ARGUMENT, "filters: the values of '" + key + "' must be a list or a map");
        }
    }
    return out;
}

bool labels_match(const std::vector<std::string>& wanted, const json& labels) {
    for (const auto& w : wanted) {
        const auto eq = w.find('=');
        const std::string key = w.substr(0, eq);
        if (!labels.is_object() || !labels.contains(key)) return false;
        if (eq != std::string::npos && (!labels[key].is_string() || labels[key].get<std::string>() != w.substr(eq + 1))) return false;
    }
    return true;
}

Result<PruneFilters> prune_filters_of(const Request& req, bool images) {
    const Filters f = CTR_TRY(images ? parse_filters(req, {"until", "label", "label!", "dangling"}) : parse_filters(req, {"until", "label", "label!"}));
    PruneFilters p;
    if (auto it = f.find("dangling"); it != f.end())
        for (const auto& v : it->second) {
            if (v != "true" && v != "false" && v != "1" && v != "0")
                return make_error(CTR_E_INVALID_ARGUMENT, "filter dangling=" + v + ": want true or false");
            p.dangling = v == "true" || v == "1";
        }
    if (auto it = f.find("until"); it != f.end())
        for (const auto& v : it->second) {
            const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
            auto t = parse_event_time(v, now);
            if (!t) return make_error(CTR_E_INVALID_ARGUMENT, "filter until=" + v + ": " + t.error().message);
            p.until = *t / 1000000000;
        }
    if (auto it = f.find("label"); it != f.end()) p.label = it->second;
    if (auto it = f.find("label!"); it != f.end()) p.label_not = it->second;
    return p;
}

bool PruneFilters::allows(int64_t created, const json& labels) const {
    if (until && created >= *until) return false;
    if (!label.empty() && !labels_match(label, labels)) return false;
    for (const auto& l : label_not)
        if (labels_match({l}, labels)) return false;
    return true;
}

}  // namespace ctr::apiserver
