#include "apiserver/networks.hpp"
#include "apiserver/list_filters.hpp"

#include <ctr/pluginhost/call.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/netns.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
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

Networks::Networks(Daemon& d) : d_(d) {
    if (d_.rootless) proxy_ = std::make_unique<PortProxy>(d_.paths.run_dir() / "netns-rootless");
}

Networks::~Networks() = default;

Status Networks::publish(const std::string& id, const json& attachments) {
    if (!proxy_ || attachments.empty() || !attachments[0].contains("ports")) return ok();
    std::vector<services::PortMapping> ports;
    for (const auto& p : attachments[0]["ports"])
        ports.push_back({p.value("host_ip", ""), p.value("host_port", 0), p.value("container_port", 0), p.value("protocol", "tcp")});
    if (ports.empty()) return ok();
    proxy_->close(id);
    return proxy_->open(id, attachments[0].value("ip", ""), ports);
}

void Networks::republish(const std::vector<store::ContainerRecord>& all) {
    std::error_code ec;
    for (const auto& c : all)
        if (proxy_ && fs::exists(netns_of(c.id), ec))
            if (auto st = publish(c.id, c.settings().network_attachments); !st)
                spdlog::warn("container {}: {}", c.name, st.error().message);
}

Result<Networks::Wiring> Networks::wire(const store::ContainerRecord& c, const services::RunRequest& req, const fs::path& dir) {
    using Mode = services::NetworkOptions::Mode;
    const auto& opt = req.network;
    Wiring w;
    std::string my_ip, gateway;
    std::vector<std::string> nameservers = opt.dns;

    if (opt.mode == Mode::container) {
        // The other's namespace, joined at each start (its process may
        // change); its hosts, resolv.conf and hostname files are ours too.
        w.spec.kind = services::SpecNetwork::Kind::own;
        std::optional<store::ContainerRecord> other;
        {
            std::lock_guard<std::mutex> lock(d_.store_mu);
            other = CTR_TRY(d_.store->container(opt.container));
        }
        if (!other) return make_error(CTR_E_NOT_FOUND, "--network container:" + opt.container + ": no such container: " + opt.container);
        const fs::path theirs = d_.paths.lib_dir() / "containers" / other->id;
        std::error_code ec;
        for (const char* name : {"hosts", "resolv.conf", "hostname"})
            if (fs::exists(theirs / name, ec)) w.mounts.push_back({(theirs / name).string(), std::string("/etc/") + name, false});
        return w;
    }
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
        if (proxy_)  // rootless: the daemon listens on the host, so it chooses (port_proxy.hpp)
            for (auto& m : ports)
                if (m.host_port == 0) m.host_port = CTR_TRY(PortProxy::free_host_port(m));
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
        CTR_TRY_STATUS(publish(c.id, w.attachments));
    }

    if (opt.mode == Mode::none && nameservers.empty() && opt.add_hosts.empty()) return w;  // the image's own files
    CTR_TRY_STATUS(write_name_files(c, req, my_ip, gateway, nameservers, dir, false));
    w.mounts.push_back({(dir / "hosts").string(), "/etc/hosts", false});
    w.mounts.push_back({(dir / "resolv.conf").string(), "/etc/resolv.conf", false});
    // /etc/hostname, as Docker gives every container one (tools read it).
    w.mounts.push_back({(dir / "hostname").string(), "/etc/hostname", false});
    return w;
}

Status Networks::write_name_files(const store::ContainerRecord& c, const services::RunRequest& req, const std::string& my_ip,
                                  const std::string& gateway, const std::vector<std::string>& nameservers, const fs::path& dir,
                                  bool in_place) {
    std::vector<services::HostEntry> extra;
    for (const auto& h : req.network.add_hosts) {
        auto e = CTR_TRY(services::parse_add_host(h));
        if (e.ip == "host-gateway") {
            if (gateway.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "--add-host " + h + ": host-gateway needs a network");
            e.ip = gateway;
        }
        extra.push_back(e);
    }
    const std::string hostname = services::container_hostname(req, c.id);
    const std::pair<const char*, std::string> files[] = {
        {"hosts", services::render_hosts(hostname, c.name, my_ip, extra)},
        {"resolv.conf", services::render_resolv_conf(nameservers, req.network.dns_search, req.network.dns_options)},
        {"hostname", hostname + "\n"}};
    for (const auto& [name, text] : files) {
        if (!in_place) {
            CTR_TRY_STATUS(sys::write_file_atomic(dir / name, text));
            continue;
        }
        // A running container has the file itself bind-mounted: a rename
        // would leave it the old one.
        std::ofstream out(dir / name, std::ios::trunc);
        if (!(out << text) || !out.flush()) return make_error(CTR_E_INTERNAL, "rewrite " + (dir / name).string() + ": " + std::strerror(errno));
    }
    return ok();
}

Status Networks::follow_first_network(const store::ContainerRecord& c, const fs::path& dir, bool in_place) {
    std::error_code ec;
    if (!fs::exists(dir / "hosts", ec)) return ok();  // the image's own files
    // Of the request it was made with, what the files are made of (the
    // record holds more, which from_json would refuse).
    services::RunRequest req;
    json asked = json::object();
    for (const char* key : {"dns", "dns_search", "dns_options", "add_hosts"})
        if (c.config.contains(key)) asked[key] = c.config[key];
    req.network = CTR_TRY(services::NetworkOptions::from_json(asked));
    req.hostname = c.config.value("hostname", "");
    req.tuning.uts_mode = c.config.value("uts", "");
    const json attachments = c.settings().network_attachments;
    const json first = attachments.empty() ? json::object() : attachments[0];
    const std::string gateway = first.value("gateway", "");
    std::vector<std::string> nameservers = req.network.dns;
    if (nameservers.empty() && !gateway.empty()) nameservers.push_back(gateway);
    return write_name_files(c, req, first.value("ip", ""), gateway, nameservers, dir, in_place);
}

Result<json> Networks::connect(const store::ContainerRecord& c, const std::string& network, const json& aliases,
                               const std::string& ip) {
    CTR_TRY_STATUS(ensure(network));
    std::set<std::string> taken;
    for (const auto& a : c.settings().network_attachments) taken.insert(a.value("ifname", ""));
    int k = 0;
    while (taken.count("eth" + std::to_string(k))) ++k;
    json names = {c.name, c.id.substr(0, 12)};
    for (const auto& a : aliases)
        if (a.is_string() && std::find(names.begin(), names.end(), a) == names.end()) names.push_back(a);
    json req = {{"network", network}, {"ifname", "eth" + std::to_string(k)}, {"aliases", names}};
    if (!ip.empty()) req["ip"] = ip;
    fs::path ns = netns_of(c.id);
    std::error_code ec;
    if (!fs::exists(ns, ec))  // stopped: rewire_if_lost asks for it at the next start
        return json{{"network", network}, {"ip", ""}, {"prefix", 0}, {"gateway", ""}, {"mac", ""},
                    {"ifname", req["ifname"]}, {"ports", json::array()}, {"request", req}};
    auto* p = CTR_TRY(plugin());
    json attach = req;
    attach["container_id"] = c.id;
    attach["netns"] = ns.string();
    auto r = pluginhost::invoke(p->network()->attach, p->instance(), attach, "attach");
    if (!r) return r.error().wrap("network \"" + network + "\"");
    d_.events.publish("network", "connect", network, {{"container", c.id}, {"name", network}, {"type", "bridge"}});
    return attachment_of(*r, attach, network);
}

Status Networks::disconnect(const store::ContainerRecord& c, const std::string& network) {
    std::error_code ec;
    if (!fs::exists(netns_of(c.id), ec)) return ok();  // stopped: it holds no endpoint
    auto* p = CTR_TRY(plugin());
    auto r = pluginhost::invoke(p->network()->detach, p->instance(), {{"network", network}, {"container_id", c.id}}, "detach");
    if (!r && r.error().status != CTR_E_NOT_FOUND) return r.error().wrap("network \"" + network + "\"");
    d_.events.publish("network", "disconnect", network, {{"container", c.id}, {"name", network}, {"type", "bridge"}});
    return ok();
}

Status Networks::rewire_if_lost(store::ContainerRecord& c, const fs::path& dir) {
    const auto settings = c.settings();
    json attachments = settings.network_attachments;
    fs::path ns = netns_of(c.id);
    std::error_code ec;
    if (fs::exists(ns, ec)) return ok();
    // No endpoint to make: --network none or host, or a container
    // disconnected from every network, whose spec still names its own
    // namespace (made empty, but for lo).
    const bool own_namespace = std::none_of(settings.networks.begin(), settings.networks.end(), [](const json& n) {
        return n == "none" || n == "host" || (n.is_string() && n.get<std::string>().rfind("container:", 0) == 0);
    });
    if (attachments.empty() && !own_namespace) return ok();
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
        // A new address, or the first one of an endpoint that `network
        // connect` added while the container was stopped.
        json now = attachment_of(*r, req, network);
        if (now["ip"] != a.value("ip", "") || now["gateway"] != a.value("gateway", "")) {
            a = now;
            moved = true;
        }
    }
    if (moved) {
        c.config["network_attachments"] = attachments;
        std::lock_guard<std::mutex> lock(d_.store_mu);
        CTR_TRY_STATUS(d_.store->update_container(c));
    }
    // Its own line in /etc/hosts and its nameserver follow its first network.
    if (moved) CTR_TRY_STATUS(follow_first_network(c, dir, false));
    if (auto st = publish(c.id, attachments); !st) {
        (void)unwire(c);
        return st;
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
    if (proxy_) proxy_->close(c.id);
    const json nets = c.settings().networks;
    std::vector<std::string> names;
    for (const auto& n : nets)
        if (n.is_string() && n != "none" && n != "host" && n.get<std::string>().rfind("container:", 0) != 0) names.push_back(n);
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

Result<std::vector<std::string>> Networks::reconcile(const std::map<std::string, std::set<std::string>>& named) {
    std::vector<std::string> done;
    auto* p = CTR_TRY(plugin());
    for (const auto& n : CTR_TRY(list())) {
        const std::string network = n.value("name", "");
        for (const auto& e : n.value("endpoints", json::array())) {
            std::string id = e.value("container_id", "");
            auto record = named.find(id);
            if (record != named.end() && record->second.count(network)) continue;
            CTR_TRY(pluginhost::invoke(p->network()->detach, p->instance(), {{"network", network}, {"container_id", id}}, "detach"));
            done.push_back("released the address " + e.value("ip", "") + " of container " + id.substr(0, 12) + " on network " + network +
                           (record == named.end() ? "" : ", which its record does not name"));
        }
    }
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(d_.paths.run_dir() / "netns", ec)) {
        if (named.count(entry.path().filename().string())) continue;
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
