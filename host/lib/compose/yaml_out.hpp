// JSON written as YAML, for `compose config` and `kube generate`: block
// style, empty maps and lists inline, strings quoted only where YAML would
// read them as something else ("80", "true", "").
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace YAML {
class Emitter;
}

namespace ctr::compose {

void emit_yaml(YAML::Emitter& out, const nlohmann::json& j);
std::string to_yaml(const nlohmann::json& j);

}  // namespace ctr::compose
