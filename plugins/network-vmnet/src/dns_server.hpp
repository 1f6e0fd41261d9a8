// The DNS server of every network: a UDP socket on each network's gateway
// address, port 53, answering A queries for the names of the network's
// containers (name, aliases, short id) and passing other questions to the
// host's resolvers, except on internal networks, which have no way out.
// One thread serves every network; update() swaps what it answers.
#pragma once

#include "ipv4.hpp"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace ctr::net {

struct Zone {
    std::string network;
    Ipv4 listen;
    bool internal = false;
    std::map<std::string, Ipv4> names;  // lower case, no trailing dot
    // A container on several networks asks its first network's server; it
    // also gets the names of its other networks, by its address here.
    std::map<uint32_t, std::map<std::string, Ipv4>> more_for_client;
};

// Builds the answer to `query` from `zone`, or nothing when the question is
// not ours to answer (the caller forwards it). Malformed queries get FORMERR.
std::optional<std::string> answer_query(const std::string& query, const Zone& zone, Ipv4 client = {});

class DnsServer {
public:
    using Warn = std::function<void(const std::string&)>;
    DnsServer(Warn warn, std::vector<Ipv4> upstreams);
    ~DnsServer();
    DnsServer(const DnsServer&) = delete;
    DnsServer& operator=(const DnsServer&) = delete;

    void update(std::vector<Zone> zones);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The IPv4 nameservers of the host's /etc/resolv.conf.
std::vector<Ipv4> host_nameservers();

}  // namespace ctr::net
