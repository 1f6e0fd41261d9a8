#include "compose/yaml_out.hpp"

#include <yaml-cpp/yaml.h>

namespace ctr::compose {

using nlohmann::json;

void emit_yaml(YAML::Emitter& out, const json& j) {
    if ((j.is_object() || j.is_array()) && j.empty()) out << YAML::Flow;
    if (j.is_object()) {
        out << YAML::BeginMap;
        for (const auto& [k, v] : j.items()) {
            out << YAML::Key << k << YAML::Value;
            emit_yaml(out, v);
        }
        out << YAML::EndMap;
    } else if (j.is_array()) {
        out << YAML::BeginSeq;
        for (const auto& v : j) emit_yaml(out, v);
        out << YAML::EndSeq;
    } else if (j.is_string()) {
        // Quoted only where YAML would read it as something else ("80", "true", "").
        std::string v = j;
        bool plain = !v.empty() && v.find_first_of(":#{}[],&*!|>'\"%@`") == std::string::npos && v.front() != ' ' &&
                     v.back() != ' ' && v != "true" && v != "false" && v != "null" && v != "~" && v != "yes" && v != "no" &&
                     v.find_first_not_of("0123456789.-+eE") != std::string::npos;
        if (plain) out << v;
        else out << YAML::DoubleQuoted << v;
    } else if (j.is_null()) {
        out << YAML::Null;
    } else {
        out << j.dump();
    }
}

std::string to_yaml(const json& j) {
    YAML::Emitter out;
    emit_yaml(out, j);
    return std::string(out.c_str()) + "\n";
}

}  // namespace ctr::compose
