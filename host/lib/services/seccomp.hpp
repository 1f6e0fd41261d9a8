// Seccomp profiles in Docker's format (what `--security-opt seccomp=FILE`
// and configs/seccomp.json hold), turned into the OCI spec's linux.seccomp
// for one container: its capabilities and this machine's architecture pick
// the rules that apply, as Docker does.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ctr::services {

// The default profile (configs/seccomp.json, built into the binary): an
// allow-list, everything else EPERM.
const nlohmann::json& default_seccomp_profile();

// A profile is an object with a known defaultAction and syscalls entries of
// names, a known action and argument checks; the error names the field.
Status check_seccomp_profile(const nlohmann::json& profile);

// The rules of `profile` that apply to a process with the capability set
// `caps` ("CAP_X") on this architecture, as the OCI spec wants them.
nlohmann::json oci_seccomp(const nlohmann::json& profile, const std::vector<std::string>& caps);

}  // namespace ctr::services
