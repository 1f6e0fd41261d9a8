// What container-oci answers without a container: its version (in runc's
// shape, which engines parse), the runtime-spec features document, and a
// default config.json (`spec`).
#pragma once

#include <string>

namespace ctr::oci {

std::string version_text();
int print_features(const std::string& plugin);
int write_default_spec(const std::string& bundle);

}  // namespace ctr::oci
