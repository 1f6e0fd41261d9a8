// Docker's ?filters= on listings, prunes and events: a JSON map from a
// filter to its values, in either of the encodings clients send ({"label":
// ["a=b"]} or, from older ones, {"label": {"a=b": true}}). Values of one
// filter are alternatives (labels: all must match); different filters must
// all match. Our API and Docker's read them here alike.
#pragma once

#include "apiserver/router.hpp"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ctr::apiserver {

using Filters = std::map<std::string, std::vector<std::string>>;

// The request's filters; an error names a filter not in `known` (empty:
// any) or a document that is neither encoding.
Result<Filters> parse_filters(const Request& req, std::initializer_list<const char*> known);

// What a prune keeps out of its reach: until=TIME (made before it; unix
// seconds, RFC 3339 or a duration ago), label=K[=V] (has it), label!=K[=V]
// (has it not).
struct PruneFilters {
    std::optional<int64_t> until;  // unix seconds
    std::vector<std::string> label, label_not;
    std::optional<bool> dangling;  // images: dangling=false is every unused image (prune -a)
    // Whether an item made at `created` (unix seconds) with `labels` may go.
    bool allows(int64_t created, const nlohmann::json& labels) const;
};
// `images`: dangling=true|false is taken too.
Result<PruneFilters> prune_filters_of(const Request& req, bool images = false);

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

}  // namespace ctr::apiserver
