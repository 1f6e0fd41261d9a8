// Networks and volumes in Docker's shapes, on the same services as our own
// /v1/networks and /v1/volumes. Docker names a network by an Id as well:
// ours have none, so one is derived from its name and creation time (the
// same network keeps it; one made again under the name gets another).
#include "apiserver/docker/docker_api.hpp"
#include "apiserver/list_filters.hpp"

#include <ctr/base/strings.hpp>

#include <cstdio>

namespace ctr::apiserver::docker {

using nlohmann::json;

namespace {

// 64 hex digits from FNV-1a over the text, four times with different seeds.
std::string network_id(const json& n) {
    const std::string text = n.value("name", "") + "@" + std::to_string(n.value("created_at", int64_t{0}));
    std::string out;
    for (uint64_t seed : {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull, 0x100000001b3ull, 0x9e3779b97f4a7c15ull}) {
        uint64_t h = seed;
        for (unsigned char ch : text) h = (h ^ ch) * 0x100000001b3ull;
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
        out += buf;
    }
    return out;
}

json network_shape(Containers& cs, const json& n) {
    json members = json::object();
    for (const auto& e : n.value("endpoints", json::array())) {
        const std::string id = e.value("container_id", "");
        auto c = cs.get(id);
        const std::string prefix = n.value("subnet", "");
        const auto slash = prefix.find('/');
        members[id] = {{"Name", c ? c->name : id.substr(0, 12)},
                       {"EndpointID", id.substr(0, 12) + "-" + n.value("name", "")},
                       {"MacAddress", e.value("mac", "")},
                       {"IPv4Address", e.value("ip", "") + (slash == std::string::npos ? "" : prefix.substr(slash))},
                       {"IPv6Address", ""}};
    }
    json ipam_config = json::array();
    if (!n.value("subnet", "").empty()) ipam_config.push_back({{"Subnet", n.value("subnet", "")}, {"Gateway", n.value("gateway", "")}});
    return {{"Name", n.value("name", "")},
            {"Id", network_id(n)},
            {"Created", ctr::rfc3339(n.value("created_at", int64_t{0}))},
            {"Scope", "local"},
            {"Driver", n.value("driver", "bridge")},
            {"EnableIPv6", false},
            {"IPAM", {{"Driver", "default"}, {"Options", json::object()}, {"Config", ipam_config}}},
            {"Internal", n.value("internal", false)},
            {"Attachable", false},
            {"Ingress", false},
            {"ConfigFrom", {{"Network", ""}}},
            {"ConfigOnly", false},
            {"Containers", members},
            {"Options", n.value("options", json::object())},
            {"Labels", n.value("labels", json::object())}};
}

// A network by name, Id or Id prefix; "bridge" is our default network,
// which Docker always has. With `make_default` (inspect) it is made when
// asked for: testcontainers reads its gateway before its first container.
// Other routes leave it as it is (a `network rm bridge` must not make it).
Result<json> find_network(Daemon& d, Networks& nets, std::string key, bool make_default = false) {
    if (key == "bridge") key = d.config.network_default;
    if (make_default && key == d.config.network_default) CTR_TRY_STATUS(nets.ensure(key));
    auto all = CTR_TRY(nets.list());
    for (const auto& n : all)
        if (n.value("name", "") == key) return n;
    for (const auto& n : all)
        if (!key.empty() && network_id(n).rfind(key, 0) == 0) return n;
    return make_error(CTR_E_NOT_FOUND, "network " + key + " not found");
}

// Docker's create request as ours; what we cannot do is refused by name.
Result<json> network_request(const json& b) {
    if (!b.is_object() || !b.contains("Name") || !b["Name"].is_string() || b["Name"].get<std::string>().empty())
        return make_error(CTR_E_INVALID_ARGUMENT, "Name: a network needs a name");
    json req = {{"name", b["Name"]}};
    if (auto driver = b.value("Driver", ""); !driver.empty() && driver != "bridge")
        return make_error(CTR_E_INVALID_ARGUMENT, "Driver \"" + driver + "\": only bridge networks are served");
    if (b.value("EnableIPv6", false)) return make_error(CTR_E_INVALID_ARGUMENT, "EnableIPv6: IPv6 networks are not served");
    if (b.value("Internal", false)) req["internal"] = true;
    if (b.contains("Labels") && b["Labels"].is_object()) req["labels"] = b["Labels"];
    if (b.contains("Options") && b["Options"].is_object() && !b["Options"].empty()) req["options"] = b["Options"];
    if (b.contains("IPAM") && b["IPAM"].is_object()) {
        const json config = b["IPAM"].value("Config", json::array());
        if (config.is_array() && config.size() > 1) return make_error(CTR_E_INVALID_ARGUMENT, "IPAM.Config: one subnet per network is served");
        if (config.is_array() && !config.empty()) {
            if (auto subnet = config[0].value("Subnet", ""); !subnet.empty()) req["subnet"] = subnet;
            if (auto gw = config[0].value("Gateway", ""); !gw.empty()) req["gateway"] = gw;
        }
    }
    return req;
}

Result<store::VolumeRecord> find_volume(Daemon& d, const std::string& name) {
    auto v = d.volumes->inspect(name);
    if (!v && v.error().status == CTR_E_NOT_FOUND) return make_error(CTR_E_NOT_FOUND, "get " + name + ": no such volume");
    return v;
}


void add_network_routes(Router& r, Daemon& d, Containers& cs, Networks& nets) {
    r.add("GET", "/networks", [&d, &cs, &nets](const Request& req) -> Result<Reply> {
        const Filters f = CTR_TRY(parse_filters(req, {"name", "id", "label", "driver", "type", "scope", "dangling"}));
        json out = json::array();
        for (const auto& n : CTR_TRY(nets.list())) {
            json shape = network_shape(cs, n);
            const std::string name = shape["Name"];
            if (excluded(f, "name", [&](const std::string& v) { return name.find(v) != std::string::npos; })) continue;
            if (excluded(f, "id", [&](const std::string& v) { return shape["Id"].get<std::string>().rfind(v, 0) == 0; })) continue;
            if (f.count("label") && !labels_match(f.at("label"), shape["Labels"])) continue;
            if (excluded(f, "driver", [&](const std::string& v) { return v == "bridge"; })) continue;
            if (excluded(f, "type", [&](const std::string& v) { return v == (name == d.config.network_default ? "builtin" : "custom"); })) continue;
            if (excluded(f, "scope", [&](const std::string& v) { return v == "local"; })) continue;
            if (excluded(f, "dangling", [&](const std::string& v) { return (v == "true" || v == "1") == nets.users_of(name).empty(); })) continue;
            out.push_back(shape);
        }
        return json_reply(out);
    });
    r.add("GET", "/networks/{id}", [&d, &cs, &nets](const Request& req) -> Result<Reply> {
        return json_reply(network_shape(cs, CTR_TRY(find_network(d, nets, req.param("id"), true))));
    });
    r.add("POST", "/networks/create", [&nets](const Request& req) -> Result<Reply> {
        json ours = CTR_TRY(network_request(req.body));
        if (auto existing = nets.inspect(ours["name"]); existing)
            return make_error(CTR_E_ALREADY_EXISTS, "network with name " + ours["name"].get<std::string>() + " already exists");
        json made = CTR_TRY(nets.create(ours));
        return json_reply(json{{"Id", network_id(made)}, {"Warning", ""}}, 201);
    });
    r.add("DELETE", "/networks/{id}", [&d, &nets](const Request& req) -> Result<Reply> {
        // Docker's own words and status (403): its bridge is not the user's to remove.
        if (const std::string key = req.param("id"); key == "bridge" || key == d.config.network_default)
            return make_error(CTR_E_PERMISSION_DENIED, key + " is a pre-defined network and cannot be removed");
        json n = CTR_TRY(find_network(d, nets, req.param("id")));
        CTR_TRY_STATUS(nets.remove(n.value("name", "")));
        Reply reply;
        reply.status = 204;
        return reply;
    });
    r.add("POST", "/networks/prune", [&nets](const Request&) -> Result<Reply> {
        return json_reply(json{{"NetworksDeleted", CTR_TRY(nets.prune())}});
    });
    // {"Container", "EndpointConfig": {"Aliases", "IPAMConfig": {"IPv4Address"}}}:
    // docker-compose joins a service's further networks this way, between
    // create and start.
    auto joined = [&d, &nets](const Request& req) -> Result<std::pair<std::string, std::string>> {
        const json& b = req.body;
        if (!b.is_object() || !b.contains("Container") || !b["Container"].is_string())
            return make_error(CTR_E_INVALID_ARGUMENT, "Container: name the container");
        std::string key = req.param("id");
        auto n = find_network(d, nets, key);
        // The default network is made on first use: it may not exist yet.
        if (!n && (key == "bridge" || key == d.config.network_default)) return std::make_pair(b["Container"].get<std::string>(), d.config.network_default);
        return std::make_pair(b["Container"].get<std::string>(), CTR_TRY(n).value("name", ""));
    };
    r.add("POST", "/networks/{id}/connect", [&cs, joined](const Request& req) -> Result<Reply> {
        auto [container, network] = CTR_TRY(joined(req));
        const json ep = req.body.value("EndpointConfig", json::object());
        json aliases = ep.is_object() ? ep.value("Aliases", json::array()) : json::array();
        std::string ip;
        if (ep.is_object() && ep.contains("IPAMConfig") && ep["IPAMConfig"].is_object()) ip = ep["IPAMConfig"].value("IPv4Address", "");
        CTR_TRY(cs.connect_network(container, network, aliases.is_array() ? aliases : json::array(), ip));
        Reply reply;
        reply.text = "";
        return reply;
    });
    r.add("POST", "/networks/{id}/disconnect", [&cs, joined](const Request& req) -> Result<Reply> {
        auto [container, network] = CTR_TRY(joined(req));
        CTR_TRY(cs.disconnect_network(container, network));
        Reply reply;
        reply.text = "";
        return reply;
    });
}

void add_volume_routes(Router& r, Daemon& d) {
    r.add("GET", "/volumes", [&d](const Request& req) -> Result<Reply> {
        const Filters f = CTR_TRY(parse_filters(req, {"name", "label", "dangling", "driver"}));
        json vols = json::array();
        for (const auto& v : CTR_TRY(d.volumes->list())) {
            if (excluded(f, "name", [&](const std::string& s) { return v.name.find(s) != std::string::npos; })) continue;
            if (f.count("label") && !labels_match(f.at("label"), v.labels)) continue;
            if (excluded(f, "driver", [&](const std::string& s) { return s == v.driver; })) continue;
            if (excluded(f, "dangling", [&](const std::string& s) { return (s == "true" || s == "1") == !volume_used(d, v.name); })) continue;
            vols.push_back(volume_shape(v));
        }
        return json_reply(json{{"Volumes", vols}, {"Warnings", json::array()}});
    });
    r.add("POST", "/volumes/create", [&d](const Request& req) -> Result<Reply> {
        const json& b = req.body.is_null() ? json::object() : req.body;
        if (!b.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "the request must be a JSON object");
        if (auto driver = b.value("Driver", ""); !driver.empty() && driver != "local")
            return make_error(CTR_E_INVALID_ARGUMENT, "Driver \"" + driver + "\": only local volumes are served");
        services::VolumeRequest vr;
        vr.name = b.value("Name", "");
        // Docker answers a create of an existing volume with that volume.
        if (!vr.name.empty())
            if (auto v = d.volumes->inspect(vr.name)) return json_reply(volume_shape(*v), 201);
        if (b.contains("Labels") && b["Labels"].is_object()) vr.labels = b["Labels"];
        if (b.contains("DriverOpts") && b["DriverOpts"].is_object()) vr.options = b["DriverOpts"];
        return json_reply(volume_shape(CTR_TRY(d.volumes->create(vr))), 201);
    });
    r.add("GET", "/volumes/{name}", [&d](const Request& req) -> Result<Reply> {
        return json_reply(volume_shape(CTR_TRY(find_volume(d, req.param("name")))));
    });
    r.add("DELETE", "/volumes/{name}", [&d](const Request& req) -> Result<Reply> {
        CTR_TRY(find_volume(d, req.param("name")));
        CTR_TRY_STATUS(d.volumes->remove(req.param("name"), req.flag("force")));
        Reply reply;
        reply.status = 204;
        return reply;
    });
    r.add("POST", "/volumes/prune", [&d](const Request&) -> Result<Reply> {
        // API 1.41 prunes every unused volume, named ones too.
        auto report = CTR_TRY(d.volumes->prune(true));
        return json_reply(json{{"VolumesDeleted", report.removed}, {"SpaceReclaimed", report.reclaimed}});
    });
}

}  // namespace

json volume_shape(const store::VolumeRecord& v) {
    return {{"Name", v.name},
            {"Driver", v.driver},
            {"Mountpoint", v.mountpoint},
            {"CreatedAt", ctr::rfc3339(v.created_at)},
            {"Labels", v.labels.is_object() ? v.labels : json::object()},
            {"Scope", "local"},
            {"Options", v.options.is_object() && !v.options.empty() ? v.options : json(nullptr)}};
}

bool volume_used(Daemon& d, const std::string& name) {
    std::lock_guard<std::mutex> lock(d.store_mu);
    auto users = d.store->volume_users(name);
    return users && !users->empty();
}

void add_object_routes(Router& r, Daemon& d, Containers& cs, Networks& nets) {
    add_network_routes(r, d, cs, nets);
    add_volume_routes(r, d);
}

}  // namespace ctr::apiserver::docker
