// What a container may reach of the host beyond the defaults, and the
// defaults themselves: the device cgroup (deny all, allow Docker's set),
// --device, --privileged, --sysctl (namespaced parameters only) and the
// cgroup namespace. Parsed from the run request, applied to its spec.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace ctr::services {

// One --device HOST[:CONTAINER][:PERMS], PERMS of r, w and m (default rwm).
struct DeviceRequest {
    std::string host, container, access = "rwm";
    static Result<DeviceRequest> parse(const std::string& text);
};

// --sysctl KEY=VALUE, allowed when the kernel keeps KEY per namespace the
// container has of its own: IPC (kernel.msg*, kernel.sem, kernel.shm*,
// fs.mqueue.*), UTS (kernel.domainname), network (net.*, not with the
// host's network). Anything else would change the host: refused by name.
Result<std::pair<std::string, std::string>> parse_sysctl(const std::string& text, bool host_network);

// The cgroup namespace a container gets when it does not say: private where
// the host has one unified hierarchy (cgroup v2), the host's otherwise (as
// Docker decides).
std::string default_cgroupns();

struct SecurityOptions {
    bool privileged = false;
    std::vector<DeviceRequest> devices;
    std::map<std::string, std::string> sysctls;
    std::string cgroupns;  // "private" or "host"
};

// Onto a spec make_spec built: the device cgroup and the devices, the
// sysctls, the cgroup namespace; --privileged takes off the masks, the
// read-only /sys and the device rules. A --device that is not one fails.
Status apply_security(nlohmann::json& spec, const SecurityOptions& o);

}  // namespace ctr::services
