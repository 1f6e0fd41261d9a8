// Docker's ?filters= on listings: a JSON map from a filter to its values,
// in either of the encodings clients send ({"label": ["a=b"]} or, from
// older ones, {"label": {"a=b": true}}). Values of one filter are
// alternatives (labels: all must match); different filters must all match.
#pragma once

#include "apiserver/router.hpp"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace ctr::apiserver::docker {

using Filters = std::map<std::string, std::vector<std::string>>;

// The request's filters; an error names a filter not in `known` or a
// document that is neither encoding.
Result<Filters> parse_filters(const Request& req, std::initializer_list<const char*> known);

// Every "key" or "key=value" of `wanted` is among `labels` (an object).
bool labels_match(const std::vector<std::string>& wanted, const nlohmann::json& labels);

// `f` names `key` and none of its values satisfies `pred`: the item is out.
template <typename Pred>
bool excluded(const Filters& f, const std::string& key, Pred pred) {
    auto it = f.find(key);
    if (it == f.end()) return false;
    for (const auto& v : it->second)
        if (pred(v)) return false;
    return true;
}

}  // namespace ctr::apiserver::docker
