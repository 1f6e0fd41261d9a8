// From the OCI documents the host hands us to what the guest needs: the RUN
// payload of a process (agent/protocol.h) and the VM's size.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace microvm {

// How a process's stdin is connected (agent/protocol.h, RUN).
enum class StdinMode : char { none = '0', pipe = '1', terminal = 't' };

// An OCI "process" object as a RUN payload. `hostname`: "" keeps the guest's.
// A terminal starts at `rows` x `cols` when both are set.
ctr::Result<std::string> run_payload(const nlohmann::json& process, const std::string& hostname, StdinMode stdin_mode,
                                     int rows = 0, int cols = 0);

// "bounding,effective,permitted,inheritable,ambient" as hex masks, from an
// OCI capabilities object ("" when there is none: the guest keeps root's).
ctr::Result<std::string> capability_masks(const nlohmann::json& caps);
// "RESOURCE=soft:hard;..." with Linux resource numbers, from OCI rlimits.
ctr::Result<std::string> rlimit_list(const nlohmann::json& rlimits);

struct VmSize {
    int memory_mib, cpus;
};
// linux.resources of an OCI config: memory.limit and cpu.quota/period size
// the VM; what is not set keeps the defaults.
VmSize vm_size(const nlohmann::json& config, VmSize defaults);

}  // namespace microvm
