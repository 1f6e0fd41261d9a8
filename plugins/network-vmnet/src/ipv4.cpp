#include "ipv4.hpp"

#include <arpa/inet.h>

namespace ctr::net {

std::string Ipv4::str() const {
    return std::to_string(value >> 24) + "." + std::to_string((value >> 16) & 0xff) + "." +
           std::to_string((value >> 8) & 0xff) + "." + std::to_string(value & 0xff);
}

std::string Subnet::str() const { return base.str() + "/" + std::to_string(prefix); }

Result<Ipv4> parse_ipv4(const std::string& text, const std::string& field) {
    in_addr a{};
    // inet_pton takes only the dotted quad (no octal, no short forms).
    if (text.empty() || ::inet_pton(AF_INET, text.c_str(), &a) != 1)
        return make_error(CTR_E_INVALID_ARGUMENT, field + ": invalid IPv4 address \"" + text + "\"");
    return Ipv4{ntohl(a.s_addr)};
}

Result<Subnet> parse_subnet(const std::string& text, const std::string& field) {
    auto bad = [&](const std::string& why) {
        return make_error(CTR_E_INVALID_ARGUMENT, field + ": invalid subnet \"" + text + "\"" + (why.empty() ? "" : ": " + why));
    };
    auto slash = text.find('/');
    if (slash == std::string::npos) return bad("expected ADDRESS/PREFIX");
    auto addr = parse_ipv4(text.substr(0, slash), field);
    if (!addr) return bad("");
    std::string p = text.substr(slash + 1);
    if (p.empty() || p.size() > 2 || p.find_first_not_of("0123456789") != std::string::npos) return bad("prefix must be 0 to 32");
    int prefix = std::stoi(p);
    if (prefix > 32) return bad("prefix must be 0 to 32");
    Subnet s{*addr, prefix};
    if ((addr->value & ~s.mask()) != 0) return bad("host bits set (did you mean " + Subnet{{addr->value & s.mask()}, prefix}.str() + "?)");
    return s;
}

}  // namespace ctr::net
