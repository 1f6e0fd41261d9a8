#include "networks.hpp"

#include "netlink.hpp"
#include "nft_rules.hpp"
#include <ctr/sys/files.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <ctr/sdk/plugin.hpp>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>

namespace ctr::net {

using nlohmann::json;

namespace {

std::string random_hex(size_t bytes) {
    std::string out;
    std::ifstream in("/dev/urandom", std::ios::binary);
    static const char* digits = "0123456789abcdef";
    for (size_t i = 0; i < bytes; ++i) {
        auto c = static_cast<unsigned char>(in.get());
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string fnv_hex(const std::string& s) {
    uint32_t h = 2166136261u;
    for (unsigned char c : s) h = (h ^ c) * 16777619u;
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", h);
    return buf;
}

int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A per-link sysctl of one of our own links; host-wide ones stay as they are.
Status link_sysctl(const std::string& link, const std::string& key, const std::string& value) {
    std::string path = "/proc/sys/net/ipv4/conf/" + link + "/" + key;
    std::ofstream f(path);
    f << value;
    f.flush();
    if (!f) return make_error(CTR_E_INTERNAL, "set net.ipv4.conf." + link + "." + key + "=" + value + ": cannot write " + path);
    return ok();
}

bool valid_name(const std::string& s) {
    static const std::regex re("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}");
    return std::regex_match(s, re);
}

Result<std::vector<std::string>> string_list(const json& req, const char* key) {
    std::vector<std::string> out;
    auto it = req.find(key);
    if (it == req.end() || it->is_null()) return out;
    if (!it->is_array()) return make_error(CTR_E_INVALID_ARGUMENT, std::string(key) + ": must be a list of strings");
    for (const auto& v : *it) {
        if (!v.is_string()) return make_error(CTR_E_INVALID_ARGUMENT, std::string(key) + ": must be a list of strings");
        out.push_back(v.get<std::string>());
    }
    return out;
}

// Is host_ip:port/protocol free on the host? A listener (or a bound UDP
// socket) there makes our DNAT rule steal its traffic: refuse instead.
Status port_free_on_host(const PortMapping& p) {
    sys::UniqueFd fd(::socket(AF_INET, (p.protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return make_error(CTR_E_INTERNAL, std::string("socket: ") + strerror(errno));
    int one = 1;
    // TIME_WAIT leftovers do not count; listeners do.
    if (p.protocol == "tcp") ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(p.host_port));
    a.sin_addr.s_addr = p.host_ip.empty() ? INADDR_ANY : htonl(CTR_TRY(parse_ipv4(p.host_ip, "publish")).value);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        int err = errno;
        std::string where = (p.host_ip.empty() ? "0.0.0.0" : p.host_ip) + ":" + std::to_string(p.host_port) + "/" + p.protocol;
        if (err == EADDRINUSE) return make_error(CTR_E_ALREADY_EXISTS, "publish " + where + ": address already in use on the host");
        if (err == EADDRNOTAVAIL) return make_error(CTR_E_INVALID_ARGUMENT, "publish " + where + ": the host has no such address");
        return make_error(CTR_E_INTERNAL, "publish " + where + ": " + strerror(err));
    }
    return ok();
}

// A port the kernel would give a socket now (and nobody of ours publishes).
Result<int> free_port(const PortMapping& p) {
    sys::UniqueFd fd(::socket(AF_INET, (p.protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = p.host_ip.empty() ? INADDR_ANY : htonl(CTR_TRY(parse_ipv4(p.host_ip, "publish")).value);
    socklen_t len = sizeof a;
    if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
        return make_error(CTR_E_RESOURCE_EXHAUSTED, std::string("publish: no free host port: ") + strerror(errno));
    return static_cast<int>(ntohs(a.sin_port));
}

// Docker's rule: 02:42 and the address's four bytes (locally administered,
// unicast). An address used again, by a container recreated under the same
// name, comes back with the same MAC: the host's and the other containers'
// ARP caches stay right. A random MAC would leave them pointing at a card
// that is gone until their entries expire, half a minute later.
std::string mac_for(Ipv4 ip) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "02:42:%02x:%02x:%02x:%02x", (ip.value >> 24) & 0xff, (ip.value >> 16) & 0xff, (ip.value >> 8) & 0xff,
                  ip.value & 0xff);
    return buf;
}

bool valid_mac(const std::string& mac) {
    static const std::regex re("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}");
    if (!std::regex_match(mac, re)) return false;
    return (std::stoi(mac.substr(0, 2), nullptr, 16) & 1) == 0;  // unicast only
}

}  // namespace

Networks::Networks(std::filesystem::path state_dir, Log warn)
    : files_(state_dir / "networks"), table_("container_" + fnv_hex(state_dir.string())), table_file_(state_dir / "nft-table"),
      warn_(std::move(warn)) {}

// When the host is done with us and no container is attached anywhere (a
// stopped container holds no endpoint), nothing of ours needs to stay on the
// host: the bridges and the nftables table go. The state stays, and ready()
// makes them again from it on first use, as after a reboot. With endpoints
// left (running containers outlive a daemon), everything stays.
Networks::~Networks() {
    std::lock_guard lock(mu_);
    if (!ready_) return;
    for (const auto& [name, n] : networks_)
        if (!n.endpoints.empty()) return;
    dns_.reset();
    auto nl = Netlink::host();
    if (nl)
        for (const auto& [name, n] : networks_)
            if (auto st = nl->delete_link(n.bridge); !st && warn_) warn_("remove bridge " + n.bridge + ": " + st.error().message);
    if (auto st = nft_apply(render_ruleset(table_, {})); !st && warn_) warn_("remove nftables table " + table_ + ": " + st.error().message);
}

Status Networks::ready() {
    if (ready_) return ok();
    networks_ = CTR_TRY(files_.load_all());
    if (!networks_.empty()) {
        auto nl = CTR_TRY(Netlink::host());
        for (auto& [name, n] : networks_)
            if (!nl.link_exists(n.bridge)) CTR_TRY_STATUS(bring_up_bridge(n));
        CTR_TRY_STATUS(apply_rules());
    }
    ready_ = true;
    refresh_dns();
    return ok();
}

Status Networks::bring_up_bridge(const NetworkState& n) {
    auto nl = CTR_TRY(Netlink::host());
    if (auto st = nl.add_bridge(n.bridge, n.mtu); !st && st.error().status != CTR_E_ALREADY_EXISTS) return st;
    CTR_TRY_STATUS(nl.add_address(n.bridge, n.gateway, n.subnet.prefix));
    CTR_TRY_STATUS(nl.set_up(n.bridge));
    // Forwarding on our bridge only: packets from its containers may be
    // routed out (when the host forwards at all); internal ones may not.
    CTR_TRY_STATUS(link_sysctl(n.bridge, "forwarding", n.internal ? "0" : "1"));
    // Host-local clients of published ports reach containers through it.
    CTR_TRY_STATUS(link_sysctl(n.bridge, "route_localnet", "1"));
    return ok();
}

Status Networks::apply_rules() {
    // The table's name, said in the state: whoever must find what this
    // plugin made on the host (the tests' leftover checks) reads it here.
    if (std::error_code ec; !std::filesystem::exists(table_file_, ec)) (void)sys::write_file_atomic(table_file_, table_ + "\n", 0600);
    return nft_apply(render_ruleset(table_, networks_));
}

void Networks::refresh_dns() {
    if (networks_.empty() && !dns_) return;
    if (!dns_) dns_ = std::make_unique<DnsServer>(warn_, host_nameservers());
    auto names_of = [](const NetworkState& n) {
        std::map<std::string, Ipv4> names;
        for (const auto& e : n.endpoints)
            for (auto a : e.aliases) {
                std::transform(a.begin(), a.end(), a.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                names.emplace(a, e.ip);
            }
        return names;
    };
    std::map<std::string, std::map<std::string, Ipv4>> by_network;
    for (const auto& [name, n] : networks_) by_network[name] = names_of(n);
    std::vector<Zone> zones;
    for (const auto& [name, n] : networks_) {
        Zone z{name, n.gateway, n.internal, by_network[name], {}};
        for (const auto& e : n.endpoints)
            for (const auto& [other_name, other] : networks_) {
                if (other_name == name || !other.endpoint(e.container_id)) continue;
                auto& more = z.more_for_client[e.ip.value];
                more.insert(by_network[other_name].begin(), by_network[other_name].end());
            }
        zones.push_back(std::move(z));
    }
    dns_->update(std::move(zones));
}

Status Networks::check_subnet_free(const Subnet& s) {
    for (const auto& [name, n] : networks_)
        if (n.subnet.overlaps(s))
            return make_error(CTR_E_ALREADY_EXISTS, "subnet " + s.str() + " overlaps network \"" + name + "\" (" + n.subnet.str() + ")");
    auto nl = CTR_TRY(Netlink::host());
    for (const auto& h : CTR_TRY(nl.host_subnets()))
        if (h.subnet.overlaps(s))
            return make_error(CTR_E_ALREADY_EXISTS, "subnet " + s.str() + " overlaps the host's " + h.kind + " " + h.subnet.str() +
                                                        (h.device.empty() ? "" : " on " + h.device));
    return ok();
}

Result<Subnet> Networks::pick_subnet(const json& req) {
    if (auto given = CTR_TRY(sdk::get_opt_string(req, "subnet"))) {
        Subnet s = CTR_TRY(parse_subnet(*given, "subnet"));
        if (s.prefix > 30) return make_error(CTR_E_INVALID_ARGUMENT, "subnet: " + s.str() + " leaves no address for a container (at most /30)");
        CTR_TRY_STATUS(check_subnet_free(s));
        return s;
    }
    json pool = req.value("pool", json::object());
    if (!pool.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "pool: must be an object {\"subnet\", \"prefix_length\"}");
    Subnet from = CTR_TRY(parse_subnet(pool.value("subnet", std::string("10.213.0.0/16")), "pool.subnet"));
    int prefix = pool.value("prefix_length", 24);
    if (prefix < from.prefix || prefix > 30) return make_error(CTR_E_INVALID_ARGUMENT, "pool.prefix_length: /" + std::to_string(prefix) + " does not fit in " + from.str());
    uint64_t step = uint64_t{1} << (32 - prefix);
    for (uint64_t at = from.base.value; at < from.base.value + from.size(); at += step) {
        Subnet s{{static_cast<uint32_t>(at)}, prefix};
        if (check_subnet_free(s)) return s;
    }
    return make_error(CTR_E_RESOURCE_EXHAUSTED, "no free /" + std::to_string(prefix) + " subnet left in the pool " + from.str() +
                                                    " (each overlaps a network or a route or address of the host: give --subnet, "
                                                    "or another [network] subnet_pool)");
}

Result<json> Networks::create(const json& req) {
    std::lock_guard lock(mu_);
    CTR_TRY_STATUS(ready());
    std::string name = CTR_TRY(sdk::get_string(req, "name"));
    if (!valid_name(name))
        return make_error(CTR_E_INVALID_ARGUMENT, "name: invalid network name \"" + name + "\" (letters, digits, _ . -; at most 63)");
    if (networks_.count(name)) return make_error(CTR_E_ALREADY_EXISTS, "network \"" + name + "\" already exists");

    NetworkState n;
    n.name = name;
    n.internal = CTR_TRY(sdk::get_bool(req, "internal", false));
    n.labels = req.value("labels", json::object());
    n.options = req.value("options", json::object());
    if (!n.labels.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "labels: must be an object");
    if (!n.options.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "options: must be an object");
    for (const auto& [key, value] : n.options.items()) {
        if (key != "mtu") return make_error(CTR_E_INVALID_ARGUMENT, "options: unknown option \"" + key + "\" (known: mtu)");
        std::string v = value.is_string() ? value.get<std::string>() : value.dump();
        if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) < 68 || std::stoi(v) > 65535)
            return make_error(CTR_E_INVALID_ARGUMENT, "options: mtu \"" + v + "\" is not a number from 68 to 65535");
        n.mtu = std::stoi(v);
    }
    n.subnet = CTR_TRY(pick_subnet(req));
    if (auto gw = CTR_TRY(sdk::get_opt_string(req, "gateway"))) {
        n.gateway = CTR_TRY(parse_ipv4(*gw, "gateway"));
        if (!n.subnet.contains(n.gateway) || n.gateway == n.subnet.network() || n.gateway == n.subnet.broadcast())
            return make_error(CTR_E_INVALID_ARGUMENT, "gateway: " + n.gateway.str() + " is not a host address of " + n.subnet.str());
    } else {
        n.gateway = n.subnet.host(1);
    }
    auto nl = CTR_TRY(Netlink::host());
    do n.bridge = "ctrbr" + random_hex(4);
    while (nl.link_exists(n.bridge));
    n.created_at = now_unix();

    // State first: a crash from here on leaves a file naming the bridge.
    CTR_TRY_STATUS(files_.save(n));
    networks_[name] = n;
    auto undo = [&](const Error& e) -> Error {
        (void)nl.delete_link(n.bridge);
        networks_.erase(name);
        (void)files_.remove(name);
        (void)apply_rules();
        return e;
    };
    if (auto st = bring_up_bridge(n); !st) return undo(st.error());
    if (auto st = apply_rules(); !st) return undo(st.error());
    refresh_dns();
    if (!n.internal) {
        std::ifstream f("/proc/sys/net/ipv4/ip_forward");
        char c = '0';
        f >> c;
        if (c == '0')
            warn_("network \"" + name + "\": net.ipv4.ip_forward is 0 on this host, so its containers reach only the host and each other; "
                  "set it to 1 for outbound traffic (a host-wide setting container leaves alone)");
    }
    return n.to_json();
}

Result<json> Networks::remove(const json& req) {
    std::lock_guard lock(mu_);
    CTR_TRY_STATUS(ready());
    std::string name = CTR_TRY(sdk::get_string(req, "name"));
    auto it = networks_.find(name);
    if (it == networks_.end()) return make_error(CTR_E_NOT_FOUND, "network \"" + name + "\" not found");
    if (!it->second.endpoints.empty()) {
        std::string ids;
        for (const auto& e : it->second.endpoints) ids += (ids.empty() ? "" : ", ") + e.container_id.substr(0, 12);
        return make_error(CTR_E_FAILED_PRECONDITION, "network \"" + name + "\" is in use by " +
                                                         std::to_string(it->second.endpoints.size()) + " container(s): " + ids);
    }
    auto nl = CTR_TRY(Netlink::host());
    CTR_TRY_STATUS(nl.delete_link(it->second.bridge));
    // The file goes last: until then it names the bridge.
    NetworkState gone = std::move(it->second);
    networks_.erase(it);
    if (auto st = apply_rules(); !st) {
        networks_[name] = std::move(gone);
        return st.error();
    }
    CTR_TRY_STATUS(files_.remove(name));
    refresh_dns();
    return json::object();
}

Result<std::vector<PortMapping>> Networks::parse_ports(const json& req, const NetworkState& n) {
    std::vector<PortMapping> out;
    auto it = req.find("ports");
    if (it == req.end() || it->is_null()) return out;
    if (!it->is_array()) return make_error(CTR_E_INVALID_ARGUMENT, "ports: must be a list");
    if (!it->empty() && n.internal)
        return make_error(CTR_E_INVALID_ARGUMENT, "ports: network \"" + n.name + "\" is internal: nothing can be published from it");
    for (const auto& p : *it) {
        if (!p.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "ports: each entry must be an object");
        PortMapping m;
        m.host_ip = p.value("host_ip", std::string());
        m.protocol = p.value("protocol", std::string("tcp"));
        m.host_port = p.value("host_port", 0);
        m.container_port = p.value("container_port", 0);
        if (m.host_port < 0 || m.host_port > 65535)  // 0: any free one
            return make_error(CTR_E_INVALID_ARGUMENT, "ports: port " + std::to_string(m.host_port) + " is out of range 1-65535");
        if (m.container_port < 1 || m.container_port > 65535)
            return make_error(CTR_E_INVALID_ARGUMENT, "ports: port " + std::to_string(m.container_port) + " is out of range 1-65535");
        if (m.protocol != "tcp" && m.protocol != "udp")
            return make_error(CTR_E_INVALID_ARGUMENT, "ports: protocol \"" + m.protocol + "\" is not tcp or udp");
        if (!m.host_ip.empty()) (void)CTR_TRY(parse_ipv4(m.host_ip, "ports: host_ip"));
        if (m.host_port == 0) m.host_port = CTR_TRY(free_port(m));
        auto clash = [&](const PortMapping& o) {
            return o.protocol == m.protocol && o.host_port == m.host_port &&
                   (o.host_ip.empty() || m.host_ip.empty() || o.host_ip == m.host_ip);
        };
        for (const auto& [name, other] : networks_)
            for (const auto& e : other.endpoints)
                for (const auto& o : e.ports)
                    if (clash(o))
                        return make_error(CTR_E_ALREADY_EXISTS, "publish " + std::to_string(m.host_port) + "/" + m.protocol +
                                                                    ": already published by container " + e.container_id.substr(0, 12));
        for (const auto& o : out)
            if (clash(o)) return make_error(CTR_E_INVALID_ARGUMENT, "ports: " + std::to_string(m.host_port) + "/" + m.protocol + " is given twice");
        CTR_TRY_STATUS(port_free_on_host(m));
        out.push_back(m);
    }
    return out;
}

Result<Ipv4> Networks::choose_ip(const json& req, const NetworkState& n) {
    auto given = CTR_TRY(sdk::get_opt_string(req, "ip"));
    if (!given) {
        auto ip = n.free_ip();
        if (!ip) return make_error(CTR_E_RESOURCE_EXHAUSTED, "no free address in network \"" + n.name + "\" (" + n.subnet.str() + ")");
        return *ip;
    }
    Ipv4 ip = CTR_TRY(parse_ipv4(*given, "ip"));
    if (!n.subnet.contains(ip))
        return make_error(CTR_E_INVALID_ARGUMENT, "ip: " + ip.str() + " is outside network \"" + n.name + "\" (" + n.subnet.str() + ")");
    if (ip == n.subnet.network() || ip == n.subnet.broadcast())
        return make_error(CTR_E_INVALID_ARGUMENT, "ip: " + ip.str() + " is the " + (ip == n.subnet.network() ? "network" : "broadcast") +
                                                      " address of " + n.subnet.str());
    if (ip == n.gateway) return make_error(CTR_E_INVALID_ARGUMENT, "ip: " + ip.str() + " is the gateway of network \"" + n.name + "\"");
    for (const auto& e : n.endpoints)
        if (e.ip == ip) return make_error(CTR_E_ALREADY_EXISTS, "ip: " + ip.str() + " is in use by container " + e.container_id.substr(0, 12));
    return ip;
}

Result<NetworkState*> Networks::named(const std::string& name) {
    auto it = networks_.find(name);
    if (it == networks_.end()) return make_error(CTR_E_NOT_FOUND, "network \"" + name + "\" not found");
    return &it->second;
}

Status Networks::undo_endpoint(NetworkState& n, const std::string& container_id) {
    Endpoint* e = n.endpoint(container_id);
    if (!e) return ok();
    auto nl = CTR_TRY(Netlink::host());
    // Deleting the host end removes the pair; if the container's namespace
    // is gone, so is the pair.
    CTR_TRY_STATUS(nl.delete_link(e->host_link));
    n.endpoints.erase(n.endpoints.begin() + (e - n.endpoints.data()));
    return files_.save(n);
}

Result<json> Networks::attach(const json& req) {
    std::lock_guard lock(mu_);
    CTR_TRY_STATUS(ready());
    NetworkState& n = *CTR_TRY(named(CTR_TRY(sdk::get_string(req, "network"))));
    std::string id = CTR_TRY(sdk::get_string(req, "container_id"));
    // A namespaced container ("netns") gets a veth pair; a VM ("tap") gets a
    // tap device on the bridge, which its VMM opens by name.
    auto tap = CTR_TRY(sdk::get_opt_string(req, "tap"));
    std::string netns;
    if (!tap) netns = CTR_TRY(sdk::get_string(req, "netns"));
    else if (req.contains("netns")) return make_error(CTR_E_INVALID_ARGUMENT, "give \"netns\" or \"tap\", not both");
    if (n.endpoint(id)) return make_error(CTR_E_ALREADY_EXISTS, "container " + id.substr(0, 12) + " is already on network \"" + n.name + "\"");

    Endpoint e;
    e.container_id = id;
    e.ifname = CTR_TRY(sdk::get_opt_string(req, "ifname")).value_or(tap ? *tap : "eth0");
    if (e.ifname.empty() || e.ifname.size() > 15 || e.ifname.find_first_of("/ :") != std::string::npos)
        return make_error(CTR_E_INVALID_ARGUMENT, "ifname: invalid interface name \"" + e.ifname + "\"");
    e.ip = CTR_TRY(choose_ip(req, n));
    e.mac = CTR_TRY(sdk::get_opt_string(req, "mac")).value_or("");
    if (!e.mac.empty() && !valid_mac(e.mac))
        return make_error(CTR_E_INVALID_ARGUMENT, "mac: invalid unicast MAC address \"" + e.mac + "\"");
    if (e.mac.empty()) e.mac = mac_for(e.ip);
    e.aliases = CTR_TRY(string_list(req, "aliases"));
    e.ports = CTR_TRY(parse_ports(req, n));
    sys::UniqueFd nsfd;
    auto nl = CTR_TRY(Netlink::host());
    if (tap) {
        if (nl.link_exists(*tap)) return make_error(CTR_E_ALREADY_EXISTS, "tap: a link named \"" + *tap + "\" exists");
        e.host_link = *tap;
    } else {
        nsfd.reset(::open(netns.c_str(), O_RDONLY | O_CLOEXEC));
        if (!nsfd.valid()) return make_error(CTR_E_INVALID_ARGUMENT, "netns: cannot open \"" + netns + "\": " + strerror(errno));
        e.netns = netns;
        do e.host_link = "ctrv" + random_hex(4);
        while (nl.link_exists(e.host_link));
    }

    // State first (it names the veth), then the links.
    n.endpoints.push_back(e);
    if (auto st = files_.save(n); !st) {
        n.endpoints.pop_back();
        return st.error();
    }
    auto made = [&]() -> Status {
        if (tap) {
            CTR_TRY_STATUS(nl.add_tap(e.host_link, n.mtu));
            CTR_TRY_STATUS(nl.set_master_and_up(e.host_link, n.bridge));
            CTR_TRY_STATUS(files_.save(n));
            return e.ports.empty() ? ok() : apply_rules();
        }
        CTR_TRY_STATUS(nl.add_veth(e.host_link, e.ifname, nsfd.get(), n.mtu));
        CTR_TRY_STATUS(nl.set_master_and_up(e.host_link, n.bridge));
        auto inside = CTR_TRY(Netlink::in_netns(nsfd.get()));
        CTR_TRY_STATUS(inside.set_up("lo"));
        CTR_TRY_STATUS(inside.set_mac(e.ifname, e.mac));
        CTR_TRY_STATUS(inside.add_address(e.ifname, e.ip, n.subnet.prefix));
        CTR_TRY_STATUS(inside.set_up(e.ifname));
        if (!n.internal) CTR_TRY_STATUS(inside.add_default_route(e.ifname, n.gateway));
        e.mac = CTR_TRY(inside.mac_of(e.ifname));
        *n.endpoint(id) = e;
        CTR_TRY_STATUS(files_.save(n));
        return e.ports.empty() ? ok() : apply_rules();  // only published ports change the rules
    }();
    if (!made) {
        (void)undo_endpoint(n, id);
        (void)apply_rules();
        return made.error();
    }
    refresh_dns();
    json routes = n.internal ? json::array() : json::array({{{"dst", "0.0.0.0/0"}, {"gw", n.gateway.str()}}});
    json interfaces = tap ? json::array({{{"name", e.host_link}, {"mac", e.mac}, {"tap", true}}})
                          : json::array({{{"name", e.host_link}}, {{"name", e.ifname}, {"mac", e.mac}, {"sandbox", netns}}});
    json ports = json::array();
    for (const auto& p : e.ports)
        ports.push_back({{"host_ip", p.host_ip}, {"host_port", p.host_port}, {"container_port", p.container_port}, {"protocol", p.protocol}});
    return json{{"interfaces", interfaces}, {"ports", ports},
                {"ips", {{{"address", e.ip.str() + "/" + std::to_string(n.subnet.prefix)}, {"gateway", n.gateway.str()}, {"interface", tap ? 0 : 1}}}},
                {"routes", routes},
                {"dns", {{"nameservers", {n.gateway.str()}}}}};
}

Result<json> Networks::detach(const json& req) {
    std::lock_guard lock(mu_);
    CTR_TRY_STATUS(ready());
    NetworkState& n = *CTR_TRY(named(CTR_TRY(sdk::get_string(req, "network"))));
    std::string id = CTR_TRY(sdk::get_string(req, "container_id"));
    bool had_ports = n.endpoint(id) && !n.endpoint(id)->ports.empty();
    CTR_TRY_STATUS(undo_endpoint(n, id));
    if (had_ports) CTR_TRY_STATUS(apply_rules());
    refresh_dns();
    keep_default_route(id);
    return json::object();
}

void Networks::keep_default_route(const std::string& container_id) {
    for (const auto& [name, other] : networks_) {
        const Endpoint* e = other.endpoint(container_id);
        if (other.internal || !e || e->netns.empty()) continue;  // none there, or a VM's tap
        sys::UniqueFd nsfd(::open(e->netns.c_str(), O_RDONLY | O_CLOEXEC));
        if (!nsfd.valid()) return;  // gone with its container (a stop detaches every network)
        auto inside = Netlink::in_netns(nsfd.get());
        if (!inside || !inside->link_exists(e->ifname)) return;
        // Kept when one is there (the detached endpoint did not hold it).
        if (auto st = inside->add_default_route(e->ifname, other.gateway); !st)
            warn_("container " + container_id + ": default route via " + name + ": " + st.error().message);
        return;
    }
}

Result<json> Networks::list() {
    std::lock_guard lock(mu_);
    CTR_TRY_STATUS(ready());
    json out = json::array();
    for (const auto& [name, n] : networks_) out.push_back(n.to_json());
    return out;
}

}  // namespace ctr::net
