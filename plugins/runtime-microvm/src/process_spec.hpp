// From the OCI documents the host hands us to what the guest needs: the RUN
// payload of a process (agent/protocol.h) and the VM's size.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace microvm {

// An OCI "process" object as a RUN payload. `hostname`: "" keeps the guest's.
ctr::Result<std::string> run_payload(const nlohmann::json& process, const std::string& hostname, bool with_stdin);

struct VmSize {
    int memory_mib, cpus;
};
// linux.resources of an OCI config: memory.limit and cpu.quota/period size
// the VM; what is not set keeps the defaults.
VmSize vm_size(const nlohmann::json& config, VmSize defaults);

}  // namespace microvm
