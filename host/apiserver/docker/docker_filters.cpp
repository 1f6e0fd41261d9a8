#include "apiserver/docker/docker_filters.hpp"

#include <algorithm>
#include <cstring>

namespace ctr::apiserver::docker {

using nlohmann::json;

Result<Filters> parse_filters(const Request& req, std::initializer_list<const char*> known) {
    Filters out;
    auto it = req.query.find("filters");
    if (it == req.query.end() || it->second.empty()) return out;
    json doc = json::parse(it->second, nullptr, false);
    if (!doc.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "filters: not a JSON object: " + it->second);
    for (const auto& [key, values] : doc.items()) {
        if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; }))
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

}  // namespace ctr::apiserver::docker
