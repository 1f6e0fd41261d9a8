// The links, addresses and routes network-vmnet makes, through rtnetlink
// (libnl-route-3). A Netlink talks to one network namespace: the one it was
// opened in. A socket keeps the namespace it was created in, so in_netns()
// creates its socket on a short-lived thread that has entered the
// container's namespace; the daemon's own threads never change namespace.
#pragma once

#include "ipv4.hpp"

#include <memory>
#include <string>
#include <vector>

struct nl_sock;

namespace ctr::net {

// A route or address the host already has, for overlap checks.
struct HostSubnet {
    Subnet subnet;
    std::string device;
    std::string kind;  // "route" or "address"
};

class Netlink {
public:
    static Result<Netlink> host();
    // A socket in the network namespace behind `netns_fd`.
    static Result<Netlink> in_netns(int netns_fd);

    // Links. Deleting a link that does not exist is not an error.
    Status add_bridge(const std::string& name, int mtu);
    Status add_veth(const std::string& host_name, const std::string& peer_name, int peer_netns_fd, int mtu);
    // A persistent tap device (no packet info, with a virtio-net header), for
    // a VM's network card; the VMM opens it by name.
    Status add_tap(const std::string& name, int mtu);
    Status delete_link(const std::string& name);
    bool link_exists(const std::string& name);
    Status set_master_and_up(const std::string& name, const std::string& master);
    Status set_up(const std::string& name);
    Status set_mac(const std::string& name, const std::string& mac);
    Result<std::string> mac_of(const std::string& name);

    // "address" is host/prefix, e.g. 10.213.0.1/24.
    Status add_address(const std::string& link, Ipv4 address, int prefix);
    // A default route through `gateway`; an existing default route is kept
    // (a container on two networks routes out through the first).
    Status add_default_route(const std::string& link, Ipv4 gateway);

    // IPv4 routes of the main table and addresses of every link, without
    // default routes.
    Result<std::vector<HostSubnet>> host_subnets();

private:
    struct SockFree {
        void operator()(nl_sock* s) const;
    };
    explicit Netlink(nl_sock* s) : sock_(s) {}
    Result<int> ifindex(const std::string& name);
    std::unique_ptr<nl_sock, SockFree> sock_;
};

}  // namespace ctr::net
