// /v1/containers, /v1/images, /v1/networks, /v1/volumes
#include "apiserver/daemon.hpp"

namespace ctr::apiserver {

namespace {

using nlohmann::json;

template <class Records>
json to_array(const Records& records) {
    json arr = json::array();
    for (const auto& r : records) arr.push_back(r.to_json());
    return arr;
}

Result<store::ContainerRecord> find_container(Daemon& d, const std::string& key) {
    auto c = CTR_TRY(d.store->container(key));
    if (!c) return make_error(CTR_E_NOT_FOUND, "no such container: " + key);
    return *c;
}

Result<json> labels_of(const json& body) {
    if (!body.contains("labels") || body["labels"].is_null()) return json::object();
    if (!body["labels"].is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "labels must be an object");
    return body["labels"];
}

}  // namespace

void add_object_routes(Router& r, Daemon& d) {
    // ---- containers (records; running them arrives with the runtime) ----
    r.add("GET", "/v1/containers", [&d](const Request& req) -> Result<Reply> {
        std::lock_guard<std::mutex> lock(d.store_mu);
        auto all = CTR_TRY(d.store->containers());
        json arr = json::array();
        for (const auto& c : all)
            if (req.flag("all") || c.state == "running") arr.push_back(c.to_json());
        return json_reply(arr);
    });
    r.add("GET", "/v1/containers/{id}", [&d](const Request& req) -> Result<Reply> {
        std::lock_guard<std::mutex> lock(d.store_mu);
        return json_reply(CTR_TRY(find_container(d, req.param("id"))).to_json());
    });
    r.add("DELETE", "/v1/containers/{id}", [&d](const Request& req) -> Result<Reply> {
        std::lock_guard<std::mutex> lock(d.store_mu);
        auto c = CTR_TRY(find_container(d, req.param("id")));
        if (c.state == "running" && !req.flag("force"))
            return make_error(CTR_E_FAILED_PRECONDITION,
                              "container " + c.name + " is running: stop it first or use --force");
        CTR_TRY_STATUS(d.store->delete_container(c.id));
        return json_reply(json{{"id", c.id}, {"name", c.name}});
    });
    r.add("POST", "/v1/containers/prune", [&d](const Request&) -> Result<Reply> {
        std::lock_guard<std::mutex> lock(d.store_mu);
        auto all = CTR_TRY(d.store->containers());
        json removed = json::array();
        for (const auto& c : all) {
            if (c.state == "running") continue;
            CTR_TRY_STATUS(d.store->delete_container(c.id));
            removed.push_back(c.id);
        }
        return json_reply(json{{"removed", removed}, {"reclaimed", 0}});
    });

    // ---- networks (filled by the network plugin's issue) ----
    r.add("GET", "/v1/networks", [&d](const Request&) -> Result<Reply> {
        std::lock_guard<std::mutex> lock(d.store_mu);
        return json_reply(to_array(CTR_TRY(d.store->networks())));
    });

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
    r.add("POST", "/v1/volumes/prune", [&d](const Request&) -> Result<Reply> {
        auto report = CTR_TRY(d.volumes->prune());
        return json_reply(json{{"removed", report.removed}, {"reclaimed", report.reclaimed}});
    });
}

}  // namespace ctr::apiserver
