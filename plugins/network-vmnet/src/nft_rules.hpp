// The nftables rules of network-vmnet: one table of our own (family ip),
// rebuilt whole from the network state on every change, in one nftables
// transaction. We never add to, flush or read anyone else's table.
//
//  - publish:  -p mappings, DNAT for traffic to a local address (from
//              outside through prerouting, from the host through output);
//  - postrouting: masquerade for non-internal subnets leaving their bridge,
//              and for host-local clients (127.0.0.0/8) of published ports;
//  - forward:  no traffic between two of our bridges; none in or out of an
//              internal network's bridge.
#pragma once

#include "state.hpp"

#include <map>
#include <string>

namespace ctr::net {

// The nft script that replaces `table` with the rules for `networks` (and
// only deletes it when there are none).
std::string render_ruleset(const std::string& table, const std::map<std::string, NetworkState>& networks);

// Runs a script through libnftables; the error names nft's complaint.
Status nft_apply(const std::string& script);

}  // namespace ctr::net
