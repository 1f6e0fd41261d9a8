#include "nft_rules.hpp"

#include <nftables/libnftables.h>

#include <memory>
#include <sstream>

namespace ctr::net {

namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// Refused at once (rather than dropped) so that a client fails fast instead
// of waiting out its connect timeout.
constexpr const char* kReject = " reject with icmp type admin-prohibited\n";

}  // namespace

std::string render_ruleset(const std::string& table, const std::map<std::string, NetworkState>& networks) {
    std::ostringstream s;
    // "add" then "delete" makes the delete safe when the table is absent;
    // the whole script is one transaction, so no moment without rules.
    s << "add table ip " << table << "\n";
    s << "delete table ip " << table << "\n";
    if (networks.empty()) return s.str();

    s << "table ip " << table << " {\n";
    s << "  chain publish {\n";
    for (const auto& [name, n] : networks)
        for (const auto& e : n.endpoints)
            for (const auto& p : e.ports) {
                s << "    ";
                if (!p.host_ip.empty() && p.host_ip != "0.0.0.0") s << "ip daddr " << p.host_ip << " ";
                s << p.protocol << " dport " << p.host_port << " dnat to " << e.ip.str() << ":" << p.container_port << "\n";
            }
    s << "  }\n";
    s << "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n"
         "    fib daddr type local jump publish\n  }\n";
    s << "  chain output {\n    type nat hook output priority -100; policy accept;\n"
         "    fib daddr type local jump publish\n  }\n";
    s << "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n";
    for (const auto& [name, n] : networks) {
        // A host-local client of a published port keeps no loopback source
        // on the bridge: the container answers the gateway instead.
        s << "    oifname " << quoted(n.bridge) << " ip saddr 127.0.0.0/8 masquerade\n";
        if (!n.internal) s << "    ip saddr " << n.subnet.str() << " oifname != " << quoted(n.bridge) << " masquerade\n";
    }
    s << "  }\n";
    s << "  chain forward {\n    type filter hook forward priority filter; policy accept;\n";
    for (const auto& [name, n] : networks) {
        if (n.internal) {
            s << "    iifname " << quoted(n.bridge) << " oifname != " << quoted(n.bridge) << kReject;
            s << "    oifname " << quoted(n.bridge) << " iifname != " << quoted(n.bridge) << kReject;
            continue;
        }
        std::string others;
        for (const auto& [other_name, o] : networks)
            if (other_name != name) others += (others.empty() ? "" : ", ") + quoted(o.bridge);
        if (!others.empty()) s << "    iifname " << quoted(n.bridge) << " oifname { " << others << " }" << kReject;
    }
    s << "  }\n";
    s << "}\n";
    return s.str();
}

Status nft_apply(const std::string& script) {
    std::unique_ptr<nft_ctx, decltype(&nft_ctx_free)> ctx(nft_ctx_new(NFT_CTX_DEFAULT), nft_ctx_free);
    if (!ctx) return make_error(CTR_E_INTERNAL, "nftables: cannot make a context");
    nft_ctx_buffer_output(ctx.get());
    nft_ctx_buffer_error(ctx.get());
    if (nft_run_cmd_from_buffer(ctx.get(), script.c_str()) != 0) {
        std::string err = nft_ctx_get_error_buffer(ctx.get());
        // nft's first line says what failed; the rest repeats the script.
        auto nl = err.find('\n');
        return make_error(CTR_E_INTERNAL, "nftables: " + (nl == std::string::npos ? err : err.substr(0, nl)));
    }
    return ok();
}

}  // namespace ctr::net
