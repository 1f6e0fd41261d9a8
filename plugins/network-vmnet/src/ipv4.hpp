// IPv4 addresses and subnets as numbers: parsing with errors that name the
// field, overlap tests, and the n-th host of a subnet. Networks are IPv4 for
// now (docs/networks.md says why).
#pragma once

#include <ctr/sdk/result.hpp>

#include <cstdint>
#include <string>

namespace ctr::net {

struct Ipv4 {
    uint32_t value = 0;  // host byte order
    std::string str() const;
    bool operator==(const Ipv4&) const = default;
    auto operator<=>(const Ipv4&) const = default;
};

struct Subnet {
    Ipv4 base;
    int prefix = 0;

    uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
    bool contains(Ipv4 a) const { return (a.value & mask()) == base.value; }
    bool overlaps(const Subnet& o) const {
        int p = std::min(prefix, o.prefix);
        uint32_t m = p == 0 ? 0 : ~uint32_t{0} << (32 - p);
        return (base.value & m) == (o.base.value & m);
    }
    Ipv4 network() const { return base; }
    Ipv4 broadcast() const { return {base.value | ~mask()}; }
    // Host n (1-based): n=1 is the first usable address.
    Ipv4 host(uint32_t n) const { return {base.value + n}; }
    uint64_t size() const { return uint64_t{1} << (32 - prefix); }
    std::string str() const;
};

// `field` names what is parsed, for the error ("subnet", "gateway", "ip").
Result<Ipv4> parse_ipv4(const std::string& text, const std::string& field);
// "a.b.c.d/n", n in 0..32, with no host bits set.
Result<Subnet> parse_subnet(const std::string& text, const std::string& field);

}  // namespace ctr::net
