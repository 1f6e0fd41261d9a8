// network-vmnet's operations: networks as Linux bridges, endpoints as veth
// pairs whose far end lives in a container's network namespace, addresses
// allocated here and nowhere else, published ports and NAT in our nftables
// table, names served by the DNS server. One mutex serialises every
// operation: they are short, and the state files stay consistent.
#pragma once

#include "dns_server.hpp"
#include "state.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <mutex>

namespace ctr::net {

class Networks {
public:
    using Log = std::function<void(const std::string&)>;
    // `state_dir`: the plugin's own directory; the nftables table's name is
    // derived from it, so daemons on different roots never share rules.
    Networks(std::filesystem::path state_dir, Log warn);
    ~Networks();

    Result<nlohmann::json> create(const nlohmann::json& req);
    Result<nlohmann::json> remove(const nlohmann::json& req);
    Result<nlohmann::json> attach(const nlohmann::json& req);
    Result<nlohmann::json> detach(const nlohmann::json& req);
    Result<nlohmann::json> list();

    const std::string& table() const { return table_; }

private:
    // Loads the state once, and makes what it describes exist again (after
    // a reboot, or a crash between writing the state and making the links).
    Status ready();
    Status bring_up_bridge(const NetworkState& n);
    Status apply_rules();
    void refresh_dns();
    Result<Subnet> pick_subnet(const nlohmann::json& req);
    Status check_subnet_free(const Subnet& s);
    Result<std::vector<PortMapping>> parse_ports(const nlohmann::json& req, const NetworkState& n);
    Result<Ipv4> choose_ip(const nlohmann::json& req, const NetworkState& n);
    Status undo_endpoint(NetworkState& n, const std::string& container_id);
    // After a detach: a default route through another endpoint of the
    // container, in the namespace it goes on using, when it lost its own.
    void keep_default_route(const std::string& container_id);
    Result<NetworkState*> named(const std::string& name);  // not found: an error naming it

    std::mutex mu_;
    StateFiles files_;
    std::string table_;
    std::filesystem::path table_file_;  // names table_, for whoever looks for what we made
    Log warn_;
    bool ready_ = false;
    std::map<std::string, NetworkState> networks_;
    std::unique_ptr<DnsServer> dns_;
};

}  // namespace ctr::net
