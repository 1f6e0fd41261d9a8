// A VM container on the container networks. The host wires a VM container
// as it wires any other: a network namespace with a veth per network, its
// address and routes (network-vmnet). Inside that namespace we add a tap
// device per veth and mirror the two with tc (each one's ingress redirected
// to the other's egress), then hand the taps to QEMU. The guest's NIC takes
// the veth's MAC and address, so the network sees the same endpoint it
// attached: no change to the host or the network plugin.
#pragma once

#include <ctr/sys/unique_fd.hpp>

#include <ctr/sdk/result.hpp>

#include <string>
#include <vector>

namespace microvm {

struct GuestNic {
    std::string ifname;       // the veth in the namespace, e.g. "eth0"
    std::string mac;          // "aa:bb:..": the guest NIC gets the same
    std::string address;      // IPv4, "" when none
    int prefix = 0;
    std::string gateway;      // "" when none
    ctr::sys::UniqueFd tap;   // for QEMU
};

// Wires every interface but lo in the namespace at `netns_path`.
ctr::Result<std::vector<GuestNic>> wire_guest_nics(const std::string& netns_path);

// The agent's NETWORK payload for the guest's NICs (in order: eth0, eth1...).
std::string network_payload(const std::vector<GuestNic>& nics);

}  // namespace microvm
