#include "services/network_options.hpp"

#include "services/names.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <regex>

namespace ctr::services {

using nlohmann::json;

namespace {

bool is_ipv4(const std::string& s) {
    in_addr a{};
    return ::inet_pton(AF_INET, s.c_str(), &a) == 1;
}

// "N" or "N-M", each 1..65535.
Result<std::pair<int, int>> port_range(const std::string& text, const std::string& whole) {
    static const std::regex re("([0-9]{1,5})(-([0-9]{1,5}))?");
    std::smatch m;
    if (!std::regex_match(text, m, re))
        return make_error(CTR_E_INVALID_ARGUMENT, "--publish \"" + whole + "\": \"" + text + "\" is not a port or port range");
    int lo = std::stoi(m[1]);
    int hi = m[3].matched ? std::stoi(m[3]) : lo;
    for (int p : {lo, hi})
        if (p < 1 || p > 65535)
            return make_error(CTR_E_INVALID_ARGUMENT, "--publish \"" + whole + "\": port " + std::to_string(p) + " is out of range 1-65535");
    if (hi < lo) return make_error(CTR_E_INVALID_ARGUMENT, "--publish \"" + whole + "\": range " + text + " runs backwards");
    return std::pair{lo, hi};
}

Result<std::vector<std::string>> strings_of(const json& b, const char* key) {
    std::vector<std::string> out;
    if (!b.contains(key) || b[key].is_null()) return out;
    if (!b[key].is_array()) return make_error(CTR_E_INVALID_ARGUMENT, std::string(key) + " must be a list of strings");
    for (const auto& v : b[key]) {
        if (!v.is_string()) return make_error(CTR_E_INVALID_ARGUMENT, std::string(key) + " must be a list of strings");
        out.push_back(v);
    }
    return out;
}

constexpr const char* kFields[] = {"networks", "ip", "mac_address", "network_aliases", "dns", "dns_search", "dns_options", "add_hosts", "publish",
                                   "expose", "publish_all"};

}  // namespace

json PortMapping::to_json() const {
    return {{"host_ip", host_ip}, {"host_port", host_port}, {"container_port", container_port}, {"protocol", protocol}};
}

Result<std::vector<PortMapping>> parse_publish(const std::string& text) {
    std::string rest = text, protocol = "tcp";
    if (auto slash = rest.rfind('/'); slash != std::string::npos) {
        protocol = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
        if (protocol != "tcp" && protocol != "udp")
            return make_error(CTR_E_INVALID_ARGUMENT, "--publish \"" + text + "\": protocol \"" + protocol + "\" is not tcp or udp");
    }
    std::string host_ip;
    auto last = rest.rfind(':');
    // "containerPort" alone (or "ip::containerPort"): a free host port each.
    std::string container_part = last == std::string::npos ? rest : rest.substr(last + 1);
    std::string host_part = last == std::string::npos ? "" : rest.substr(0, last);
    if (auto colon = host_part.rfind(':'); colon != std::string::npos) {
        host_ip = host_part.substr(0, colon);
        host_part = host_part.substr(colon + 1);
        if (!host_ip.empty() && !is_ipv4(host_ip))
            return make_error(CTR_E_INVALID_ARGUMENT, "--publish \"" + text + "\": \"" + host_ip + "\" is not an IPv4 address");
        if (host_ip == "0.0.0.0") host_ip.clear();
    }
    auto [clo, chi] = CTR_TRY(port_range(container_part, text));
    if (host_part.empty()) {
        std::vector<PortMapping> any;
        for (int p = clo; p <= chi; ++p) any.push_back({host_ip, 0, p, protocol});
        return any;
    }
    auto [hlo, hhi] = CTR_TRY(port_range(host_part, text));
    if (hhi - hlo != chi - clo)
        return make_error(CTR_E_INVALID_ARGUMENT, "--publish \"" + text + "\": the host range and the container range differ in size");
    std::vector<PortMapping> out;
    for (int i = 0; i <= hhi - hlo; ++i) out.push_back({host_ip, hlo + i, clo + i, protocol});
    return out;
}

Result<HostEntry> parse_add_host(const std::string& text) {
    auto sep = text.find_first_of(":=");
    if (sep == std::string::npos || sep == 0 || sep + 1 == text.size())
        return make_error(CTR_E_INVALID_ARGUMENT, "--add-host \"" + text + "\": want NAME:IP");
    HostEntry e{text.substr(0, sep), text.substr(sep + 1)};
    static const std::regex name_re("[A-Za-z0-9]([A-Za-z0-9.-]{0,252})");
    if (!std::regex_match(e.name, name_re)) return make_error(CTR_E_INVALID_ARGUMENT, "--add-host \"" + text + "\": invalid host name \"" + e.name + "\"");
    in6_addr a6{};
    if (e.ip != "host-gateway" && !is_ipv4(e.ip) && ::inet_pton(AF_INET6, e.ip.c_str(), &a6) != 1)
        return make_error(CTR_E_INVALID_ARGUMENT, "--add-host \"" + text + "\": \"" + e.ip + "\" is not an IP address");
    return e;
}

bool NetworkOptions::is_field(const std::string& key) {
    return std::any_of(std::begin(kFields), std::end(kFields), [&](const char* f) { return key == f; });
}

Result<NetworkOptions> NetworkOptions::from_json(const json& b) {
    NetworkOptions o;
    std::vector<std::string> nets = CTR_TRY(strings_of(b, "networks"));
    for (const auto& n : nets) {
        if (n.rfind("container:", 0) == 0) {
            if (nets.size() > 1) return make_error(CTR_E_INVALID_ARGUMENT, "--network " + n + " cannot be combined with other networks");
            if (n.size() == 10) return make_error(CTR_E_INVALID_ARGUMENT, "--network container: names no container");
            o.mode = Mode::container;
            o.container = n.substr(10);
            continue;
        }
        if (n == "none" || n == "host") {
            if (nets.size() > 1) return make_error(CTR_E_INVALID_ARGUMENT, "--network " + n + " cannot be combined with other networks");
            o.mode = n == "none" ? Mode::none : Mode::host;
            continue;
        }
        if (auto st = check_name("network", n); !st) return st.error().wrap("--network");
        if (std::count(nets.begin(), nets.end(), n) > 1) return make_error(CTR_E_INVALID_ARGUMENT, "--network " + n + " is given twice");
        o.networks.push_back(n);
    }
    o.ip = b.value("ip", "");
    o.mac = b.value("mac_address", "");
    if (!o.ip.empty() && !is_ipv4(o.ip)) return make_error(CTR_E_INVALID_ARGUMENT, "--ip \"" + o.ip + "\" is not an IPv4 address");
    static const std::regex mac_re("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}");
    if (!o.mac.empty() && !std::regex_match(o.mac, mac_re))
        return make_error(CTR_E_INVALID_ARGUMENT, "--mac-address \"" + o.mac + "\" is not a MAC address (xx:xx:xx:xx:xx:xx)");
    o.aliases = CTR_TRY(strings_of(b, "network_aliases"));
    o.dns = CTR_TRY(strings_of(b, "dns"));
    for (const auto& d : o.dns)
        if (!is_ipv4(d)) return make_error(CTR_E_INVALID_ARGUMENT, "--dns \"" + d + "\" is not an IPv4 address");
    o.dns_search = CTR_TRY(strings_of(b, "dns_search"));
    o.dns_options = CTR_TRY(strings_of(b, "dns_options"));
    o.add_hosts = CTR_TRY(strings_of(b, "add_hosts"));
    for (const auto& h : o.add_hosts) (void)CTR_TRY(parse_add_host(h));
    o.publish = CTR_TRY(strings_of(b, "publish"));
    for (const auto& p : o.publish) (void)CTR_TRY(parse_publish(p));
    o.expose = CTR_TRY(strings_of(b, "expose"));
    for (const auto& e : o.expose) {
        // A container port or range alone: what -p takes without a host side.
        if (e.find(':') != std::string::npos || !parse_publish(e))
            return make_error(CTR_E_INVALID_ARGUMENT, "--expose \"" + e + "\": want PORT[-END][/tcp|udp]");
    }
    if (b.contains("publish_all") && !b["publish_all"].is_boolean()) return make_error(CTR_E_INVALID_ARGUMENT, "publish_all must be true or false");
    o.publish_all = b.value("publish_all", false);
    if (o.mode != Mode::bridge) {
        std::string mode = o.mode == Mode::none ? "none" : o.mode == Mode::host ? "host" : "container:" + o.container;
        if (!o.publish.empty() || o.publish_all) return make_error(CTR_E_INVALID_ARGUMENT, "--publish needs a network: not with --network " + mode);
        if (!o.ip.empty() || !o.mac.empty() || !o.aliases.empty())
            return make_error(CTR_E_INVALID_ARGUMENT, "--ip, --mac-address and --network-alias need a network: not with --network " + mode);
    }
    // The other container's names and resolver are this one's too.
    if (o.mode == Mode::container && (!o.dns.empty() || !o.dns_search.empty() || !o.dns_options.empty() || !o.add_hosts.empty()))
        return make_error(CTR_E_INVALID_ARGUMENT, "--dns, --dns-search, --dns-option and --add-host are " + o.container +
                                                      "'s: not with --network container:" + o.container);
    return o;
}

void NetworkOptions::to_json(json& b) const {
    json nets = networks;
    if (mode == Mode::none) nets = {"none"};
    if (mode == Mode::host) nets = {"host"};
    if (mode == Mode::container) nets = {"container:" + container};
    b["networks"] = nets;
    b["ip"] = ip;
    b["mac_address"] = mac;
    b["network_aliases"] = aliases;
    b["dns"] = dns;
    b["dns_search"] = dns_search;
    b["dns_options"] = dns_options;
    b["add_hosts"] = add_hosts;
    b["publish"] = publish;
    b["expose"] = expose;
    b["publish_all"] = publish_all;
}

std::vector<std::string> publish_with_exposed(const NetworkOptions& o, const json& image_config) {
    std::vector<std::string> out = o.publish;
    if (!o.publish_all) return out;
    std::vector<std::string> wanted = o.expose;
    const json cfg = image_config.is_object() ? image_config.value("config", json::object()) : json::object();
    if (cfg.is_object() && cfg.contains("ExposedPorts") && cfg["ExposedPorts"].is_object())
        for (auto it = cfg["ExposedPorts"].begin(); it != cfg["ExposedPorts"].end(); ++it) wanted.push_back(it.key());
    auto covered = [&](const PortMapping& m) {
        for (const auto& p : out) {
            auto maps = parse_publish(p);
            if (!maps) continue;
            for (const auto& x : *maps)
                if (x.container_port == m.container_port && x.protocol == m.protocol) return true;
        }
        return false;
    };
    for (const auto& w : wanted) {
        auto maps = parse_publish(w);
        if (!maps) continue;  // an image's odd entry
        for (const auto& m : *maps)
            if (!covered(m)) out.push_back(std::to_string(m.container_port) + "/" + m.protocol);
    }
    return out;
}

std::string render_hosts(const std::string& hostname, const std::string& name, const std::string& ip,
                         const std::vector<HostEntry>& extra) {
    std::string s = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
    if (!ip.empty()) s += ip + "\t" + hostname + (name != hostname ? " " + name : "") + "\n";
    else s += "127.0.1.1\t" + hostname + "\n";
    for (const auto& e : extra) s += e.ip + "\t" + e.name + "\n";
    return s;
}

std::string render_resolv_conf(const std::vector<std::string>& nameservers, const std::vector<std::string>& search,
                               const std::vector<std::string>& options) {
    std::string s;
    for (const auto& n : nameservers) s += "nameserver " + n + "\n";
    if (!search.empty()) {
        s += "search";
        for (const auto& d : search) s += " " + d;
        s += "\n";
    }
    if (!options.empty()) {
        s += "options";
        for (const auto& o : options) s += " " + o;
        s += "\n";
    }
    return s;
}

}  // namespace ctr::services
