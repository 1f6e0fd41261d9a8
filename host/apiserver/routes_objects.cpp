// /v1/volumes (networks: apiserver/networks.cpp)
#include "apiserver/daemon.hpp"
#include "apiserver/list_filters.hpp"

namespace ctr::apiserver {

namespace {

using nlohmann::json;

template <class Records>
json to_array(const Records& records) {
    json arr = json::array();
    for (const auto& r : records) arr.push_back(r.to_json());
    return arr;
}

Result<json> labels_of(const json& body) {
    if (!body.contains("labels") || body["labels"].is_null()) return json::object();
    if (!body["labels"].is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "labels must be an object");
    return body["labels"];
}

}  // namespace

void add_object_routes(Router& r, Daemon& d) {
    // ---- volumes ----
    r.add("POST", "/v1/volumes", [&d](const Request& req) -> Result<Reply> {
        const json& b = req.body.is_null() ? json::object() : req.body;
        if (!b.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "request body must be an object");
        for (const auto& [k, v] : b.items())
            if (k != "name" && k != "labels" && k != "options")
                return make_error(CTR_E_INVALID_ARGUMENT, "unknown field \"" + k + "\"");
        services::VolumeRequest vr;
        if (b.contains("name")) {
            if (!b["name"].is_string() || b["name"].get<std::string>().empty())
                return make_error(CTR_E_INVALID_ARGUMENT, "invalid volume name: name must be a non-empty string");
            vr.name = b["name"];
        }
        vr.labels = CTR_TRY(labels_of(b));
        if (b.contains("options")) vr.options = b["options"];
        return json_reply(CTR_TRY(d.volumes->create(vr)).to_json(), 201);
    });
    r.add("GET", "/v1/volumes", [&d](const Request&) -> Result<Reply> { return json_reply(to_array(CTR_TRY(d.volumes->list()))); });
    r.add("GET", "/v1/volumes/{name}", [&d](const Request& req) -> Result<Reply> {
        auto v = CTR_TRY(d.volumes->inspect(req.param("name")));
        json j = v.to_json();
        std::lock_guard<std::mutex> lock(d.store_mu);
        j["used_by"] = CTR_TRY(d.store->volume_users(v.name));
        return json_reply(j);
    });
    r.add("DELETE", "/v1/volumes/{name}", [&d](const Request& req) -> Result<Reply> {
        CTR_TRY_STATUS(d.volumes->remove(req.param("name"), req.flag("force")));
        return json_reply(json{{"name", req.param("name")}});
    });
    r.add("POST", "/v1/volumes/prune", [&d](const Request& req) -> Result<Reply> {
        const PruneFilters keep = CTR_TRY(prune_filters_of(req));
        auto report = CTR_TRY(d.volumes->prune(req.flag("all"), [&keep](const store::VolumeRecord& v) { return keep.allows(v.created_at, v.labels); }));
        return json_reply(json{{"removed", report.removed}, {"reclaimed", report.reclaimed}});
    });
}

}  // namespace ctr::apiserver
