#include "state.hpp"

#include <ctr/sys/files.hpp>

#include <algorithm>
#include <fstream>

namespace ctr::net {

using nlohmann::json;

Endpoint* NetworkState::endpoint(const std::string& container_id) {
    for (auto& e : endpoints)
        if (e.container_id == container_id) return &e;
    return nullptr;
}

const Endpoint* NetworkState::endpoint(const std::string& container_id) const {
    for (const auto& e : endpoints)
        if (e.container_id == container_id) return &e;
    return nullptr;
}

bool NetworkState::ip_taken(Ipv4 ip) const {
    if (ip == gateway) return true;
    return std::any_of(endpoints.begin(), endpoints.end(), [&](const Endpoint& e) { return e.ip == ip; });
}

std::optional<Ipv4> NetworkState::free_ip() const {
    for (uint64_t n = 1; n + 1 < subnet.size(); ++n) {
        Ipv4 ip = subnet.host(static_cast<uint32_t>(n));
        if (!ip_taken(ip)) return ip;
    }
    return std::nullopt;
}

json NetworkState::to_json() const {
    json eps = json::array();
    for (const auto& e : endpoints) {
        json ports = json::array();
        for (const auto& p : e.ports)
            ports.push_back({{"host_ip", p.host_ip}, {"host_port", p.host_port}, {"container_port", p.container_port}, {"protocol", p.protocol}});
        eps.push_back({{"container_id", e.container_id}, {"ifname", e.ifname}, {"host_link", e.host_link}, {"netns", e.netns},
                       {"ip", e.ip.str()}, {"mac", e.mac}, {"aliases", e.aliases}, {"ports", ports}});
    }
    return {{"name", name}, {"driver", "bridge"}, {"subnet", subnet.str()}, {"gateway", gateway.str()}, {"bridge", bridge},
            {"internal", internal}, {"mtu", mtu}, {"labels", labels}, {"options", options}, {"created_at", created_at},
            {"endpoints", eps}};
}

Result<NetworkState> NetworkState::from_json(const json& j) {
    try {
        NetworkState n;
        n.name = j.at("name").get<std::string>();
        n.subnet = CTR_TRY(parse_subnet(j.at("subnet").get<std::string>(), "subnet"));
        n.gateway = CTR_TRY(parse_ipv4(j.at("gateway").get<std::string>(), "gateway"));
        n.bridge = j.at("bridge").get<std::string>();
        n.internal = j.value("internal", false);
        n.mtu = j.value("mtu", 0);
        n.labels = j.value("labels", json::object());
        n.options = j.value("options", json::object());
        n.created_at = j.value("created_at", int64_t{0});
        for (const auto& e : j.value("endpoints", json::array())) {
            Endpoint ep;
            ep.container_id = e.at("container_id").get<std::string>();
            ep.ifname = e.value("ifname", "eth0");
            ep.host_link = e.at("host_link").get<std::string>();
            ep.netns = e.value("netns", "");
            ep.ip = CTR_TRY(parse_ipv4(e.at("ip").get<std::string>(), "ip"));
            ep.mac = e.value("mac", "");
            ep.aliases = e.value("aliases", std::vector<std::string>{});
            for (const auto& p : e.value("ports", json::array()))
                ep.ports.push_back({p.value("host_ip", ""), p.at("host_port").get<int>(), p.at("container_port").get<int>(),
                                    p.value("protocol", "tcp")});
            n.endpoints.push_back(std::move(ep));
        }
        return n;
    } catch (const json::exception& e) {
        return make_error(CTR_E_INTERNAL, std::string("network state: ") + e.what());
    }
}

Result<std::map<std::string, NetworkState>> StateFiles::load_all() const {
    std::map<std::string, NetworkState> out;
    std::error_code ec;
    if (!std::filesystem::exists(dir_, ec)) return out;
    for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
        if (entry.path().extension() != ".json") continue;  // skips write_file_atomic's temporaries
        auto text = CTR_TRY(sys::read_file(entry.path()));
        json j = json::parse(text, nullptr, false);
        if (j.is_discarded()) return make_error(CTR_E_INTERNAL, "network state \"" + entry.path().string() + "\" is not valid json");
        auto n = NetworkState::from_json(j);
        if (!n) return make_error(CTR_E_INTERNAL, "network state \"" + entry.path().string() + "\": " + n.error().message);
        out.emplace(n->name, std::move(*n));
    }
    if (ec) return make_error(CTR_E_INTERNAL, "read network state \"" + dir_.string() + "\": " + ec.message());
    return out;
}

Status StateFiles::save(const NetworkState& n) const {
    CTR_TRY_STATUS(sys::make_dirs(dir_, 0700));
    return sys::write_file_atomic(dir_ / (n.name + ".json"), n.to_json().dump(1) + "\n", 0600);
}

Status StateFiles::remove(const std::string& name) const {
    std::error_code ec;
    std::filesystem::remove(dir_ / (name + ".json"), ec);
    if (ec) return make_error(CTR_E_INTERNAL, "remove network state \"" + name + "\": " + ec.message());
    return ok();
}

}  // namespace ctr::net
