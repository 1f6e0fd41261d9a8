#include "netlink.hpp"

#include <ctr/sys/unique_fd.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>

#include <cstring>
#include <functional>
#include <optional>
#include <thread>

namespace ctr::net {

namespace {

// libnl objects are reference counted; these hold one reference each.
struct LinkPut {
    void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrPut {
    void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct RtAddrPut {
    void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct RoutePut {
    void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
struct CacheFree {
    void operator()(nl_cache* c) const { nl_cache_free(c); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkPut>;
using AddrPtr = std::unique_ptr<nl_addr, AddrPut>;
using CachePtr = std::unique_ptr<nl_cache, CacheFree>;

Error nl_error(const std::string& what, int err) {
    ctr_status status = CTR_E_INTERNAL;
    if (err == -NLE_EXIST) status = CTR_E_ALREADY_EXISTS;
    else if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) status = CTR_E_NOT_FOUND;
    else if (err == -NLE_PERM) status = CTR_E_PERMISSION_DENIED;
    return make_error(status, what + ": " + nl_geterror(err));
}

AddrPtr ipv4_addr(Ipv4 a, int prefix) {
    uint32_t be = htonl(a.value);
    AddrPtr addr(nl_addr_build(AF_INET, &be, sizeof be));
    if (addr) nl_addr_set_prefixlen(addr.get(), prefix);
    return addr;
}

Result<nl_sock*> connect_socket() {
    nl_sock* s = nl_socket_alloc();
    if (!s) return make_error(CTR_E_INTERNAL, "netlink: out of memory");
    if (int err = nl_connect(s, NETLINK_ROUTE); err < 0) {
        nl_socket_free(s);
        return nl_error("netlink: connect", err);
    }
    return s;
}

Status change_link(nl_sock* sk, const std::string& name, const std::function<void(rtnl_link*)>& edit) {
    rtnl_link* raw = nullptr;
    if (int err = rtnl_link_get_kernel(sk, 0, name.c_str(), &raw); err < 0) return nl_error("link \"" + name + "\"", err);
    LinkPtr orig(raw);
    LinkPtr change(rtnl_link_alloc());
    if (!change) return make_error(CTR_E_INTERNAL, "netlink: out of memory");
    edit(change.get());
    if (int err = rtnl_link_change(sk, orig.get(), change.get(), 0); err < 0) return nl_error("change link \"" + name + "\"", err);
    return ok();
}


}  // namespace

void Netlink::SockFree::operator()(nl_sock* s) const { nl_socket_free(s); }

Result<Netlink> Netlink::host() {
    nl_sock* s = CTR_TRY(connect_socket());
    return Netlink(s);
}

Result<Netlink> Netlink::in_netns(int netns_fd) {
    // setns() changes only the calling thread; this thread ends right after,
    // and its socket stays in the namespace it was made in.
    Result<nl_sock*> made = make_error(CTR_E_INTERNAL, "netlink: no socket");
    std::thread([&] {
        if (::setns(netns_fd, CLONE_NEWNET) != 0) {
            made = make_error(CTR_E_INTERNAL, std::string("setns into the container's network namespace: ") + strerror(errno));
            return;
        }
        made = connect_socket();
    }).join();
    nl_sock* s = CTR_TRY(std::move(made));
    return Netlink(s);
}

Result<int> Netlink::ifindex(const std::string& name) {
    rtnl_link* raw = nullptr;
    if (int err = rtnl_link_get_kernel(sock_.get(), 0, name.c_str(), &raw); err < 0)
        return nl_error("link \"" + name + "\"", err);
    LinkPtr link(raw);
    return rtnl_link_get_ifindex(link.get());
}

bool Netlink::link_exists(const std::string& name) { return ifindex(name).has_value(); }

Status Netlink::add_bridge(const std::string& name, int mtu) {
    LinkPtr link(rtnl_link_alloc());
    if (!link) return make_error(CTR_E_INTERNAL, "netlink: out of memory");
    rtnl_link_set_name(link.get(), name.c_str());
    if (int err = rtnl_link_set_type(link.get(), "bridge"); err < 0) return nl_error("bridge \"" + name + "\"", err);
    if (mtu > 0) rtnl_link_set_mtu(link.get(), static_cast<unsigned>(mtu));
    if (int err = rtnl_link_add(sock_.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
        return nl_error("create bridge \"" + name + "\"", err);
    return ok();
}

Status Netlink::add_veth(const std::string& host_name, const std::string& peer_name, int peer_netns_fd, int mtu) {
    LinkPtr link(rtnl_link_veth_alloc());
    if (!link) return make_error(CTR_E_INTERNAL, "netlink: out of memory");
    LinkPtr peer(rtnl_link_veth_get_peer(link.get()));
    rtnl_link_set_name(link.get(), host_name.c_str());
    rtnl_link_set_name(peer.get(), peer_name.c_str());
    if (mtu > 0) {
        rtnl_link_set_mtu(link.get(), static_cast<unsigned>(mtu));
        rtnl_link_set_mtu(peer.get(), static_cast<unsigned>(mtu));
    }
    // The peer is born in the container's namespace: its name (eth0) never
    // meets the host's links.
    rtnl_link_set_ns_fd(peer.get(), peer_netns_fd);
    if (int err = rtnl_link_add(sock_.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
        return nl_error("create veth \"" + host_name + "\"", err);
    return ok();
}

Status Netlink::add_tap(const std::string& name, int mtu) {
    if (name.empty() || name.size() >= IFNAMSIZ) return make_error(CTR_E_INVALID_ARGUMENT, "tap: invalid interface name \"" + name + "\"");
    if (link_exists(name)) return make_error(CTR_E_ALREADY_EXISTS, "tap: a link named \"" + name + "\" exists");
    sys::UniqueFd tun(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!tun.valid()) return make_error(CTR_E_UNAVAILABLE, std::string("tap: open /dev/net/tun: ") + strerror(errno));
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.c_str(), name.size());
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (::ioctl(tun.get(), TUNSETIFF, &ifr) != 0) return make_error(CTR_E_INTERNAL, "tap \"" + name + "\": " + strerror(errno));
    // Persistent: the device outlives this fd, until delete_link.
    if (::ioctl(tun.get(), TUNSETPERSIST, 1) != 0) return make_error(CTR_E_INTERNAL, "tap \"" + name + "\": persist: " + strerror(errno));
    if (mtu > 0)
        return change_link(sock_.get(), name, [mtu](rtnl_link* c) { rtnl_link_set_mtu(c, static_cast<unsigned>(mtu)); });
    return ok();
}

Status Netlink::delete_link(const std::string& name) {
    LinkPtr link(rtnl_link_alloc());
    if (!link) return make_error(CTR_E_INTERNAL, "netlink: out of memory");
    rtnl_link_set_name(link.get(), name.c_str());
    int err = rtnl_link_delete(sock_.get(), link.get());
    if (err < 0 && err != -NLE_NODEV && err != -NLE_OBJ_NOTFOUND) return nl_error("delete link \"" + name + "\"", err);
    return ok();
}


Status Netlink::set_master_and_up(const std::string& name, const std::string& master) {
    int m = CTR_TRY(ifindex(master));
    return change_link(sock_.get(), name, [m](rtnl_link* c) {
        rtnl_link_set_master(c, m);
        rtnl_link_set_flags(c, IFF_UP);
    });
}

Status Netlink::set_up(const std::string& name) {
    return change_link(sock_.get(), name, [](rtnl_link* c) { rtnl_link_set_flags(c, IFF_UP); });
}

Status Netlink::set_mac(const std::string& name, const std::string& mac) {
    nl_addr* raw = nullptr;
    if (nl_addr_parse(mac.c_str(), AF_LLC, &raw) < 0) return make_error(CTR_E_INVALID_ARGUMENT, "mac: invalid address \"" + mac + "\"");
    AddrPtr addr(raw);
    return change_link(sock_.get(), name, [&](rtnl_link* c) { rtnl_link_set_addr(c, addr.get()); });
}

Result<std::string> Netlink::mac_of(const std::string& name) {
    rtnl_link* raw = nullptr;
    if (int err = rtnl_link_get_kernel(sock_.get(), 0, name.c_str(), &raw); err < 0) return nl_error("link \"" + name + "\"", err);
    LinkPtr link(raw);
    nl_addr* a = rtnl_link_get_addr(link.get());
    if (!a) return std::string();
    char buf[64];
    return std::string(nl_addr2str(a, buf, sizeof buf));
}

Status Netlink::add_address(const std::string& link, Ipv4 address, int prefix) {
    int index = CTR_TRY(ifindex(link));
    std::unique_ptr<rtnl_addr, RtAddrPut> a(rtnl_addr_alloc());
    AddrPtr local = ipv4_addr(address, prefix);
    Subnet net{{address.value & Subnet{{0}, prefix}.mask()}, prefix};
    AddrPtr broadcast = ipv4_addr(net.broadcast(), 32);
    if (!a || !local || !broadcast) return make_error(CTR_E_INTERNAL, "netlink: out of memory");
    rtnl_addr_set_ifindex(a.get(), index);
    rtnl_addr_set_local(a.get(), local.get());
    rtnl_addr_set_prefixlen(a.get(), prefix);
    rtnl_addr_set_broadcast(a.get(), broadcast.get());
    int err = rtnl_addr_add(sock_.get(), a.get(), 0);
    if (err < 0 && err != -NLE_EXIST) return nl_error("add address " + address.str() + " to \"" + link + "\"", err);
    return ok();
}

Status Netlink::add_default_route(const std::string& link, Ipv4 gateway) {
    int index = CTR_TRY(ifindex(link));
    std::unique_ptr<rtnl_route, RoutePut> r(rtnl_route_alloc());
    AddrPtr dst = ipv4_addr({0}, 0);
    AddrPtr gw = ipv4_addr(gateway, 32);
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (!r || !dst || !gw || !nh) {
        if (nh) rtnl_route_nh_free(nh);
        return make_error(CTR_E_INTERNAL, "netlink: out of memory");
    }
    rtnl_route_set_family(r.get(), AF_INET);
    rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
    rtnl_route_set_dst(r.get(), dst.get());
    rtnl_route_nh_set_gateway(nh, gw.get());
    rtnl_route_nh_set_ifindex(nh, index);
    rtnl_route_add_nexthop(r.get(), nh);  // the route owns it now
    int err = rtnl_route_add(sock_.get(), r.get(), NLM_F_EXCL);
    if (err < 0 && err != -NLE_EXIST) return nl_error("add default route via " + gateway.str(), err);
    return ok();
}

Result<std::vector<HostSubnet>> Netlink::host_subnets() {
    std::vector<HostSubnet> out;
    nl_cache* raw = nullptr;
    if (int err = rtnl_link_alloc_cache(sock_.get(), AF_UNSPEC, &raw); err < 0) return nl_error("list links", err);
    CachePtr links(raw);
    auto name_of = [&](int index) {
        char buf[IF_NAMESIZE + 1] = {};
        return std::string(rtnl_link_i2name(links.get(), index, buf, sizeof buf) ? buf : "?");
    };
    auto to_subnet = [](nl_addr* a) -> std::optional<Subnet> {
        if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != 4) return std::nullopt;
        int prefix = static_cast<int>(nl_addr_get_prefixlen(a));
        if (prefix == 0) return std::nullopt;  // a default route overlaps everything
        uint32_t be = 0;
        std::memcpy(&be, nl_addr_get_binary_addr(a), 4);
        Subnet s{{ntohl(be)}, prefix};
        s.base.value &= s.mask();
        return s;
    };

    raw = nullptr;
    if (int err = rtnl_route_alloc_cache(sock_.get(), AF_INET, 0, &raw); err < 0) return nl_error("list routes", err);
    CachePtr routes(raw);
    for (nl_object* o = nl_cache_get_first(routes.get()); o; o = nl_cache_get_next(o)) {
        auto* r = reinterpret_cast<rtnl_route*>(o);
        if (rtnl_route_get_table(r) != RT_TABLE_MAIN) continue;
        auto s = to_subnet(rtnl_route_get_dst(r));
        if (!s) continue;
        std::string dev;
        if (rtnl_route_get_nnexthops(r) > 0) dev = name_of(rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(r, 0)));
        out.push_back({*s, dev, "route"});
    }

    raw = nullptr;
    if (int err = rtnl_addr_alloc_cache(sock_.get(), &raw); err < 0) return nl_error("list addresses", err);
    CachePtr addrs(raw);
    for (nl_object* o = nl_cache_get_first(addrs.get()); o; o = nl_cache_get_next(o)) {
        auto* a = reinterpret_cast<rtnl_addr*>(o);
        if (rtnl_addr_get_family(a) != AF_INET) continue;
        nl_addr* local = rtnl_addr_get_local(a);
        if (!local) continue;
        nl_addr_set_prefixlen(local, rtnl_addr_get_prefixlen(a));
        auto s = to_subnet(local);
        if (!s) continue;
        out.push_back({*s, name_of(rtnl_addr_get_ifindex(a)), "address"});
    }
    return out;
}

}  // namespace ctr::net
