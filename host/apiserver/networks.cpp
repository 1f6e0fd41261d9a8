#include "apiserver/networks.hpp"
#include "apiserver/list_filters.hpp"

#include <ctr/pluginhost/call.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/netns.hpp>

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

namespace ctr::apiserver {

namespace fs = std::filesystem;
using nlohmann::json;

Result<pluginhost::LoadedPlugin*> Networks::plugin() { return d_.network_plugin(); }

Result<json> Networks::list() {
    auto* p = CTR_TRY(plugin());
    return pluginhost::invoke(p->network()->list, p->instance(), json::object(), "list");
}

Result<json> Networks::inspect(const std::string& name) {
    for (const auto& n : CTR_TRY(list()))
        if (n.value("name", "") == name) return n;
    return make_error(CTR_E_NOT_FOUND, "network \"" + name + "\" not found");
}

Result<json> Networks::create(const json& body) {
    if (!body.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "request body must be an object");
    json req = json::object();
    for (const auto& [k, v] : body.items()) {
        if (k != "name" && k != "subnet" && k != "gateway" && k != "internal" && k != "labels" && k != "options")
            return make_error(CTR_E_INVALID_ARGUMENT, "unknown field \"" + k + "\"");
        req[k] = v;
    }
    std::string name = body.value("name", "");
    if (name == "none" || name == "host")
        return make_error(CTR_E_INVALID_ARGUMENT, "name: \"" + name + "\" is reserved (--network " + name + " means no network of ours)");
    req["pool"] = {{"subnet", d_.config.network_subnet_pool}, {"prefix_length", d_.config.network_prefix_length}};
    auto* p = CTR_TRY(plugin());
    auto made = CTR_TRY(pluginhost::invoke(p->network()->create_network, p->instance(), req, "create_network"));
    spdlog::info("created network {} ({})", name, made.value("subnet", ""));
    d_.events.publish("network", "create", name, {{"name", name}, {"type", "bridge"}});
    return made;
}

Status Networks::remove(const std::string& name) {
    // A stopped container holds no endpoint, but it will want its network
    // back at its next start.
    if (auto users = users_of(name); !users.empty()) {
        std::string names;
        for (const auto& u : users) names += (names.empty() ? "" : ", ") + u;
        return make_error(CTR_E_FAILED_PRECONDITION, "network \"" + name + "\" is in use by " + std::to_string(users.size()) +
                                                         " container(s), running or not: " + names);
    }
    auto* p = CTR_TRY(plugin());
    CTR_TRY(pluginhost::invoke(p->network()->remove_network, p->instance(), {{"name", name}}, "remove_network"));
    spdlog::info("removed network {}", name);
    d_.events.publish("network", "destroy", name, {{"name", name}, {"type", "bridge"}});
    return ok();
}

Result<std::vector<std::string>> Networks::prune(const std::function<bool(const json&)>& may_remove) {
    std::vector<std::string> removed;
    for (const auto& n : CTR_TRY(list())) {
        std::string name = n.value("name", "");
        if (name == d_.config.network_default || !n.value("endpoints", json::array()).empty() || !users_of(name).empty()) continue;
        if (may_remove && !may_remove(n)) continue;
        if (remove(name)) removed.push_back(name);
    }
    return removed;
}

Status Networks::ensure(const std::string& name) {
    std::lock_guard lock(mu_);
    auto found = inspect(name);
    if (found) return ok();
    if (found.error().status != CTR_E_NOT_FOUND) return found.error();
    if (name != d_.config.network_default) return found.error();
    auto made = create({{"name", name}});
    if (!made && made.error().status != CTR_E_ALREADY_EXISTS) return made.error().wrap("make the default network");
    return ok();
}

namespace {

std::vector<std::string> host_resolv_nameservers() {
    std::vector<std::string> out;
    std::ifstream in("/etc/resolv.conf");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string key, value;
        if (words >> key >> value && key == "nameserver") out.push_back(value);
    }
    return out;
}

// What a container got from the plugin's attach on one network, as the
// container's record keeps it; "request" is what to ask again to get the
// same (its address, MAC and host ports as chosen).
json attachment_of(const json& reply, json request, const std::string& network) {
    request.erase("netns");
    request.erase("container_id");
    std::string cidr = reply["ips"][0].value("address", "");
    std::string ip = cidr.substr(0, cidr.find('/'));
    std::string gw = reply["ips"][0].value("gateway", "");
    std::string mac;
    for (const auto& itf : reply["interfaces"])
        if (itf.contains("sandbox")) mac = itf.value("mac", "");
    request["ip"] = ip;
    request["mac"] = mac;
    // Host ports as chosen (a free one for "-p 80"): kept as they are.
    if (reply.contains("ports") && !reply["ports"].empty()) request["ports"] = reply["ports"];
    return {{"network", network}, {"ip", ip}, {"prefix", std::stoi(cidr.substr(cidr.find('/') + 1))},
            {"gateway", gw}, {"mac", mac}, {"ifname", request.value("ifname", "")},
            {"ports", request.value("ports", json::array())}, {"request", request}};
}

}  // namespace

Result<Networks::Wiring> Networks::wire(const store::ContainerRecord& c, const services::RunRequest& req, const fs::path& dir) {
    using Mode = services::NetworkOptions::Mode;
    const auto& opt = req.network;
    Wiring w;
    std::string hostname = services::container_hostname(req, c.id);
    std::string my_ip, gateway;
    std::vector<std::string> nameservers = opt.dns;

    if (opt.mode == Mode::host) {
        w.spec.kind = services::SpecNetwork::Kind::host;
        if (nameservers.empty()) nameservers = host_resolv_nameservers();
    } else if (opt.mode == Mode::none) {
        w.spec.kind = services::SpecNetwork::Kind::own;
    } else {
        std::vector<std::string> names = opt.networks;
        if (names.empty()) names.push_back(d_.config.network_default);
        for (const auto& n : names) CTR_TRY_STATUS(ensure(n));
        std::vector<services::PortMapping> ports;
        for (const auto& text : opt.publish) {
            auto more = CTR_TRY(services::parse_publish(text));
            ports.insert(ports.end(), more.begin(), more.end());
        }
        fs::path ns = netns_of(c.id);
        CTR_TRY_STATUS(sys::make_dirs(ns.parent_path(), 0700));
        CTR_TRY_STATUS(sys::make_netns(ns));
        w.spec.kind = services::SpecNetwork::Kind::path;
        w.spec.path = ns.string();
        auto* p = CTR_TRY(plugin());
        for (size_t i = 0; i < names.size(); ++i) {
            json aliases = {c.name, c.id.substr(0, 12)};
            if (!req.hostname.empty() && req.hostname != c.name) aliases.push_back(req.hostname);
            for (const auto& a : opt.aliases) aliases.push_back(a);
            json attach = {{"network", names[i]}, {"container_id", c.id}, {"netns", ns.string()},
                           {"ifname", "eth" + std::to_string(i)}, {"aliases", aliases}};
            if (i == 0) {  // --ip, --mac-address and -p belong to the first network
                if (!opt.ip.empty()) attach["ip"] = opt.ip;
                if (!opt.mac.empty()) attach["mac"] = opt.mac;
                json pj = json::array();
                for (const auto& m : ports) pj.push_back(m.to_json());
                if (!pj.empty()) attach["ports"] = pj;
            }
            auto r = pluginhost::invoke(p->network()->attach, p->instance(), attach, "attach");
            if (!r) return r.error().wrap("network \"" + names[i] + "\"");
            w.attachments.push_back(attachment_of(*r, attach, names[i]));
            d_.events.publish("network", "connect", names[i], {{"container", c.id}, {"name", names[i]}, {"type", "bridge"}});
            if (i == 0) {
                my_ip = w.attachments[0]["ip"];
                gateway = w.attachments[0]["gateway"];
            }
        }
        // The first network's DNS server answers names on that network and
        // passes the rest to the host's resolvers.
        if (nameservers.empty()) nameservers.push_back(gateway);
    }

    std::vector<services::HostEntry> extra;
    for (const auto& h : opt.add_hosts) {
        auto e = CTR_TRY(services::parse_add_host(h));
        if (e.ip == "host-gateway") {
            if (gateway.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "--add-host " + h + ": host-gateway needs a network");
            e.ip = gateway;
        }
        extra.push_back(e);
    }
    if (opt.mode == Mode::none && nameservers.empty() && extra.empty()) return w;  // the image's own files
    CTR_TRY_STATUS(sys::write_file_atomic(dir / "hosts", services::render_hosts(hostname, c.name, my_ip, extra)));
    CTR_TRY_STATUS(sys::write_file_atomic(dir / "resolv.conf", services::render_resolv_conf(nameservers, opt.dns_search, opt.dns_options)));
    w.mounts.push_back({(dir / "hosts").string(), "/etc/hosts", false});
    w.mounts.push_back({(dir / "resolv.conf").string(), "/etc/resolv.conf", false});
    // /etc/hostname, as Docker gives every container one (tools read it).
    CTR_TRY_STATUS(sys::write_file_atomic(dir / "hostname", hostname + "\n"));
    w.mounts.push_back({(dir / "hostname").string(), "/etc/hostname", false});
    return w;
}

namespace {

// /etc/hosts as wire() wrote it, with the container's own line moved to a
// new address.
Status move_hosts_entry(const fs::path& file, const std::string& from, const std::string& to) {
    auto text = sys::read_file(file);
    if (!text) return ok();  // none: --network none with the image's own
    std::istringstream in(*text);
    std::string out, line;
    while (std::getline(in, line)) out += (line.rfind(from + "\t", 0) == 0 ? to + line.substr(from.size()) : line) + "\n";
    return sys::write_file_atomic(file, out);
}

}  // namespace

Status Networks::rewire_if_lost(store::ContainerRecord& c, const fs::path& dir) {
    const auto settings = c.settings();
    json attachments = settings.network_attachments;
    fs::path ns = netns_of(c.id);
    std::error_code ec;
    if (attachments.empty() || fs::exists(ns, ec)) return ok();
    CTR_TRY_STATUS(sys::make_dirs(ns.parent_path(), 0700));
    CTR_TRY_STATUS(sys::make_netns(ns));
    auto* p = CTR_TRY(plugin());
    bool moved = false;
    for (auto& a : attachments) {
        json req = a.value("request", json::object());
        if (!req.is_object() || req.empty()) continue;  // made before requests were kept
        std::string network = req.value("network", "");
        if (auto st = ensure(network); !st) {
            (void)unwire(c);
            return st.error().wrap("network \"" + network + "\"");
        }
        // The old endpoint's links went with the old namespace (a stop, a
        // reboot); its address is asked for again, as it was.
        (void)pluginhost::invoke(p->network()->detach, p->instance(), {{"network", network}, {"container_id", c.id}}, "detach");
        req["container_id"] = c.id;
        req["netns"] = ns.string();
        auto r = pluginhost::invoke(p->network()->attach, p->instance(), req, "attach");
        // Taken meanwhile by another container: a new one, as docker gives a
        // restarted container, unless the user chose it (--ip).
        if (!r && r.error().status == CTR_E_ALREADY_EXISTS && r.error().message.rfind("ip:", 0) == 0 &&
            settings.ip.empty()) {
            req.erase("ip");
            // Its MAC follows its address (docker's rule, network-vmnet's
            // too): the old one is the new holder's of the old address now.
            if (settings.mac_address.empty()) req.erase("mac");
            r = pluginhost::invoke(p->network()->attach, p->instance(), req, "attach");
        }
        if (!r) {
            (void)unwire(c);
            return r.error().wrap("network \"" + network + "\"");
        }
        std::string cidr = (*r)["ips"][0].value("address", "");
        std::string ip = cidr.substr(0, cidr.find('/'));
        if (ip != a.value("ip", "")) {
            if (&a == &attachments[0]) CTR_TRY_STATUS(move_hosts_entry(dir / "hosts", a.value("ip", ""), ip));
            std::string mac;
            for (const auto& itf : (*r)["interfaces"])
                if (itf.contains("sandbox")) mac = itf.value("mac", "");
            a["ip"] = a["request"]["ip"] = ip;
            a["mac"] = a["request"]["mac"] = mac;
            moved = true;
        }
    }
    if (moved) {
        c.config["network_attachments"] = attachments;
        std::lock_guard<std::mutex> lock(d_.store_mu);
        CTR_TRY_STATUS(d_.store->update_container(c));
    }
    return ok();
}

std::vector<std::string> Networks::users_of(const std::string& name) {
    std::vector<std::string> users;
    std::lock_guard<std::mutex> lock(d_.store_mu);
    auto all = d_.store->containers();
    if (!all) return users;
    for (const auto& c : *all) {
        const auto settings = c.settings();
        for (const auto& a : settings.network_attachments)
            if (a.value("network", "") == name) users.push_back(c.name);
    }
    return users;
}

Status Networks::unwire(const store::ContainerRecord& c) {
    Status result = ok();
    const json nets = c.settings().networks;
    std::vector<std::string> names;
    for (const auto& n : nets)
        if (n.is_string() && n != "none" && n != "host") names.push_back(n);
    if (names.empty() && nets.empty()) names.push_back(d_.config.network_default);
    if (!names.empty()) {
        if (auto p = plugin(); p) {
            for (const auto& n : names) {
                auto r = pluginhost::invoke((*p)->network()->detach, (*p)->instance(), {{"network", n}, {"container_id", c.id}}, "detach");
                if (r) d_.events.publish("network", "disconnect", n, {{"container", c.id}, {"name", n}, {"type", "bridge"}});
                if (!r && r.error().status != CTR_E_NOT_FOUND) {
                    spdlog::warn("container {}: detach from network {}: {}", c.name, n, r.error().message);
                    result = r.error();
                }
            }
        }
    }
    if (auto st = sys::remove_netns(netns_of(c.id)); !st) {
        spdlog::warn("container {}: {}", c.name, st.error().message);
        result = st;
    }
    return result;
}

Result<std::vector<std::string>> Networks::reconcile(const std::set<std::string>& ids) {
    std::vector<std::string> done;
    auto* p = CTR_TRY(plugin());
    for (const auto& n : CTR_TRY(list())) {
        for (const auto& e : n.value("endpoints", json::array())) {
            std::string id = e.value("container_id", "");
            if (ids.count(id)) continue;
            CTR_TRY(pluginhost::invoke(p->network()->detach, p->instance(), {{"network", n["name"]}, {"container_id", id}}, "detach"));
            done.push_back("released the address " + e.value("ip", "") + " of container " + id.substr(0, 12) + " on network " +
                           n.value("name", ""));
        }
    }
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(d_.paths.run_dir() / "netns", ec)) {
        if (ids.count(entry.path().filename().string())) continue;
        CTR_TRY_STATUS(sys::remove_netns(entry.path()));
        done.push_back("removed the network namespace of container " + entry.path().filename().string().substr(0, 12));
    }
    return done;
}

void Networks::remove_default_if_unused() {
    auto n = inspect(d_.config.network_default);
    if (n && n->value("endpoints", json::array()).empty() && users_of(d_.config.network_default).empty())
        (void)remove(d_.config.network_default);
}

void add_network_routes(Router& r, Daemon&, Networks& nets) {
    r.add("GET", "/v1/networks", [&nets](const Request&) -> Result<Reply> { return json_reply(nets.list()); });
    r.add("POST", "/v1/networks", [&nets](const Request& req) -> Result<Reply> {
        return json_reply(nets.create(req.body.is_null() ? json::object() : req.body), 201);
    });
    r.add("GET", "/v1/networks/{name}", [&nets](const Request& req) -> Result<Reply> { return json_reply(nets.inspect(req.param("name"))); });
    r.add("DELETE", "/v1/networks/{name}", [&nets](const Request& req) -> Result<Reply> {
        CTR_TRY_STATUS(nets.remove(req.param("name")));
        return json_reply(json{{"name", req.param("name")}});
    });
    r.add("POST", "/v1/networks/prune", [&nets](const Request& req) -> Result<Reply> {
        const PruneFilters keep = CTR_TRY(prune_filters_of(req));
        auto allowed = [&keep](const json& n) { return keep.allows(n.value("created_at", int64_t{0}), n.value("labels", json::object())); };
        return json_reply(json{{"removed", CTR_TRY(nets.prune(allowed))}, {"reclaimed", 0}});
    });
}

}  // namespace ctr::apiserver
