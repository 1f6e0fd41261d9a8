#include "vm_network.hpp"

#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sched.h>
#include <sstream>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace microvm {

namespace {

ctr::Error sys_error(const std::string& what) { return ctr::make_error(CTR_E_INTERNAL, what + ": " + std::strerror(errno)); }

// The name into an ifreq, NUL-terminated (names are at most IFNAMSIZ - 1).
void set_name(ifreq& r, const std::string& name) { std::snprintf(r.ifr_name, IFNAMSIZ, "%s", name.c_str()); }

std::string format_mac(const unsigned char* b) {
    char s[18];
    std::snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    return s;
}

// The default route's gateway of `ifname`, from this thread's namespace.
std::string gateway_of(const std::string& ifname) {
    std::ifstream routes("/proc/thread-self/net/route");
    std::string line;
    std::getline(routes, line);  // the header
    while (std::getline(routes, line)) {
        std::istringstream ss(line);
        std::string iface, dest, gw;
        ss >> iface >> dest >> gw;
        if (iface != ifname || dest != "00000000") continue;
        in_addr a{};
        a.s_addr = static_cast<in_addr_t>(std::stoul(gw, nullptr, 16));
        char buf[INET_ADDRSTRLEN];
        return inet_ntop(AF_INET, &a, buf, sizeof buf) ? buf : "";
    }
    return {};
}

// tc, run from this thread: it inherits the namespace the thread entered.
ctr::Status tc(const std::vector<std::string>& args) {
    static const std::string path = ctr::sys::find_program("tc");  // sbin, for a rootless daemon too
    if (path.empty()) return ctr::make_error(CTR_E_UNAVAILABLE, "tc not found (install iproute2)");
    std::vector<std::string> argv = {path};
    argv.insert(argv.end(), args.begin(), args.end());
    ctr::sys::RunOptions o;
    o.capture_stderr = true;
    auto r = CTR_TRY(ctr::sys::run_capture(argv, o));
    if (!r.status.success()) return ctr::make_error(CTR_E_INTERNAL, "tc " + args[0] + " " + args[1] + ": " + r.err.substr(0, r.err.find('\n')));
    return ctr::ok();
}

// Everything arriving at `from` leaves through `to`.
ctr::Status mirror(const std::string& from, const std::string& to) {
    // A restarted container's veth still has the last run's mirror (its tap is gone).
    (void)tc({"qdisc", "del", "dev", from, "ingress"});
    CTR_TRY_STATUS(tc({"qdisc", "add", "dev", from, "ingress"}));
    return tc({"filter", "add", "dev", from, "parent", "ffff:", "protocol", "all", "u32", "match", "u8", "0", "0", "action", "mirred",
               "egress", "redirect", "dev", to});
}

ctr::Result<std::vector<GuestNic>> wire_here() {
    std::vector<GuestNic> nics;
    ctr::sys::UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock.valid()) return sys_error("socket");
    struct if_nameindex* names = ::if_nameindex();
    if (!names) return sys_error("if_nameindex");
    std::vector<std::string> ifnames;
    for (auto* n = names; n->if_index != 0; ++n)
        if (std::string(n->if_name) != "lo" && std::string(n->if_name).rfind("tap", 0) != 0) ifnames.push_back(n->if_name);
    ::if_freenameindex(names);
    std::sort(ifnames.begin(), ifnames.end());
    for (size_t i = 0; i < ifnames.size(); ++i) {
        GuestNic nic;
        nic.ifname = ifnames[i];
        ifreq ifr{};
        set_name(ifr, nic.ifname);
        if (::ioctl(sock.get(), SIOCGIFHWADDR, &ifr) != 0) return sys_error("mac of " + nic.ifname);
        nic.mac = format_mac(reinterpret_cast<unsigned char*>(ifr.ifr_hwaddr.sa_data));
        if (::ioctl(sock.get(), SIOCGIFADDR, &ifr) == 0) {
            char buf[INET_ADDRSTRLEN];
            nic.address = inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr)->sin_addr, buf, sizeof buf);
            if (::ioctl(sock.get(), SIOCGIFNETMASK, &ifr) == 0)
                nic.prefix = __builtin_popcount(reinterpret_cast<sockaddr_in*>(&ifr.ifr_netmask)->sin_addr.s_addr);
        }
        nic.gateway = gateway_of(nic.ifname);
        // The tap: made by opening the clone device here, gone when QEMU and we close it.
        std::string tap = "tap" + std::to_string(i);
        nic.tap.reset(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
        if (!nic.tap.valid()) return sys_error("/dev/net/tun");
        ifreq t{};
        set_name(t, tap);
        t.ifr_flags = IFF_TAP | IFF_NO_PI;
        if (::ioctl(nic.tap.get(), TUNSETIFF, &t) != 0) return sys_error("create " + tap);
        ifreq up{};
        set_name(up, tap);
        if (::ioctl(sock.get(), SIOCGIFFLAGS, &up) != 0) return sys_error("flags of " + tap);
        up.ifr_flags |= IFF_UP;
        if (::ioctl(sock.get(), SIOCSIFFLAGS, &up) != 0) return sys_error("up " + tap);
        CTR_TRY_STATUS(mirror(nic.ifname, tap));
        CTR_TRY_STATUS(mirror(tap, nic.ifname));
        nics.push_back(std::move(nic));
    }
    return nics;
}

}  // namespace

ctr::Result<std::vector<GuestNic>> wire_guest_nics(const std::string& netns_path) {
    ctr::sys::UniqueFd ns(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns.valid()) return ctr::make_error(CTR_E_NOT_FOUND, "network namespace " + netns_path + ": " + std::strerror(errno));
    // On a thread of its own, which ends with the namespace it entered: no
    // other thread of the shim ever changes namespace.
    ctr::Result<std::vector<GuestNic>> out = ctr::make_error(CTR_E_INTERNAL, "not wired");
    std::thread t([&] {
        if (::setns(ns.get(), CLONE_NEWNET) != 0) {
            out = sys_error("enter " + netns_path);
            return;
        }
        out = wire_here();
    });
    t.join();
    return out;
}

std::string network_payload(const std::vector<GuestNic>& nics) {
    std::string out;
    auto put = [&](const std::string& s) {
        out += s;
        out.push_back('\0');
    };
    for (size_t i = 0; i < nics.size(); ++i) {
        put("eth" + std::to_string(i));
        put(nics[i].address);
        put(std::to_string(nics[i].prefix));
        put(nics[i].gateway);
    }
    return out;
}

}  // namespace microvm
