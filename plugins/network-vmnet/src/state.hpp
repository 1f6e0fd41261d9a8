// What network-vmnet remembers: its networks and their endpoints, one JSON
// file per network under the plugin's state directory, replaced atomically.
// A change is written before the links it describes are made and after they
// are removed, so after a crash the files name every link and rule of ours
// that may exist, and reconciling from them leaks nothing.
#pragma once

#include "ipv4.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ctr::net {

// One -p: host_ip may be empty (every local address).
struct PortMapping {
    std::string host_ip;
    int host_port = 0;
    int container_port = 0;
    std::string protocol = "tcp";
};

struct Endpoint {
    std::string container_id;
    std::string ifname;     // inside the container
    std::string host_link;  // the veth's host end
    Ipv4 ip;
    std::string mac;
    std::vector<std::string> aliases;  // names the network's DNS answers for
    std::vector<PortMapping> ports;
    std::string netns;  // the container's network namespace (a veth's); "": a tap, or older state
};

struct NetworkState {
    std::string name;
    Subnet subnet;
    Ipv4 gateway;
    std::string bridge;
    bool internal = false;
    int mtu = 0;
    nlohmann::json labels = nlohmann::json::object();
    nlohmann::json options = nlohmann::json::object();
    int64_t created_at = 0;
    std::vector<Endpoint> endpoints;

    Endpoint* endpoint(const std::string& container_id);
    const Endpoint* endpoint(const std::string& container_id) const;
    bool ip_taken(Ipv4 ip) const;
    // The lowest free host address, or nothing when the subnet is full.
    std::optional<Ipv4> free_ip() const;
    nlohmann::json to_json() const;  // as `list` answers and as stored
    static Result<NetworkState> from_json(const nlohmann::json& j);
};

class StateFiles {
public:
    explicit StateFiles(std::filesystem::path dir) : dir_(std::move(dir)) {}
    Result<std::map<std::string, NetworkState>> load_all() const;
    Status save(const NetworkState& n) const;
    Status remove(const std::string& name) const;

private:
    std::filesystem::path dir_;
};

}  // namespace ctr::net
