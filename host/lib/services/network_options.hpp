// What `run` and `create` say about networking, checked before anything is
// made: --network (none, host, or names), --ip, --mac-address,
// --network-alias, --dns*, --add-host and -p/--publish. And the files a
// container gets from it: /etc/hosts and /etc/resolv.conf.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ctr::services {

// One host port to one container port (ranges are expanded).
struct PortMapping {
    std::string host_ip;  // empty: every local address
    int host_port = 0;
    int container_port = 0;
    std::string protocol = "tcp";

    nlohmann::json to_json() const;
};

// "[ip:]hostPort[-end]:containerPort[-end][/tcp|udp]"; without a host port
// ("80", "127.0.0.1::80"), host_port is 0: the network plugin picks a free one.
Result<std::vector<PortMapping>> parse_publish(const std::string& text);

// "name:ip" or "name=ip"; ip may be "host-gateway".
struct HostEntry {
    std::string name, ip;
};
Result<HostEntry> parse_add_host(const std::string& text);

struct NetworkOptions {
    enum class Mode { bridge, none, host, container } mode = Mode::bridge;
    std::string container;              // container mode: whose network namespace is joined
    std::vector<std::string> networks;  // bridge mode; empty: the configured default
    std::string ip, mac;                // for the first network
    std::vector<std::string> aliases;
    std::vector<std::string> dns, dns_search, dns_options;
    std::vector<std::string> add_hosts;  // as given; parsed by parse_add_host
    std::vector<std::string> publish;    // as given; parsed by parse_publish
    std::vector<std::string> expose;     // --expose PORT[-END][/PROTO]: ports -P publishes besides the image's
    bool publish_all = false;            // -P: the image's exposed ports and --expose ones, on free host ports

    // Reads the fields of a run request ("networks", "ip", "mac_address",
    // "network_aliases", "dns", "dns_search", "dns_options", "add_hosts",
    // "publish") and checks that they agree with one another.
    static Result<NetworkOptions> from_json(const nlohmann::json& body);
    void to_json(nlohmann::json& body) const;
    static bool is_field(const std::string& key);
};

// `o`'s publish list with -P carried out: each port the image exposes
// (`image_config`'s ExposedPorts) or --expose names, not published already,
// on a free host port.
std::vector<std::string> publish_with_exposed(const NetworkOptions& o, const nlohmann::json& image_config);

// The contents of a container's /etc/hosts: localhost, the container's own
// names on its first address, then --add-host entries.
std::string render_hosts(const std::string& hostname, const std::string& name, const std::string& ip,
                         const std::vector<HostEntry>& extra);

// The contents of a container's /etc/resolv.conf.
std::string render_resolv_conf(const std::vector<std::string>& nameservers, const std::vector<std::string>& search,
                               const std::vector<std::string>& options);

}  // namespace ctr::services
