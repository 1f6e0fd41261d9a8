#include "compose/yaml_in.hpp"

#include <yaml-cpp/yaml.h>

#include <regex>

namespace ctr::compose {

using nlohmann::json;

json yaml_scalar(const std::string& text, bool quoted) {
    if (quoted) return text;
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    static const std::regex integer("[-+]?[0-9]+"), real("[-+]?([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");
    try {
        if (std::regex_match(text, integer) && text.size() < 18) return std::stoll(text);
        if (std::regex_match(text, real)) return std::stod(text);
    } catch (...) {
    }
    return text;
}

std::string yaml_text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
    if (v.is_number_float()) {
        std::string s = std::to_string(v.get<double>());
        while (s.size() > 1 && s.back() == '0') s.pop_back();
        if (!s.empty() && s.back() == '.') s.pop_back();
        return s;
    }
    return v.is_null() ? "" : v.dump();
}

namespace {

Result<json> to_json(const YAML::Node& n, const std::string& file) {
    switch (n.Type()) {
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined: return json(nullptr);
        case YAML::NodeType::Scalar: return yaml_scalar(n.Scalar(), n.Tag() == "!");
        case YAML::NodeType::Sequence: {
            json arr = json::array();
            for (const auto& item : n) arr.push_back(CTR_TRY(to_json(item, file)));
            return arr;
        }
        case YAML::NodeType::Map: {
            json obj = json::object();
            for (const auto& kv : n) {
                const std::string where = file + ":" + std::to_string(kv.first.Mark().line + 1);
                if (!kv.first.IsScalar()) return make_error(CTR_E_INVALID_ARGUMENT, where + ": keys must be plain strings");
                const std::string key = kv.first.Scalar();
                if (obj.contains(key)) return make_error(CTR_E_INVALID_ARGUMENT, where + ": duplicate key \"" + key + "\"");
                obj[key] = CTR_TRY(to_json(kv.second, file));
            }
            return obj;
        }
    }
    return json(nullptr);
}

}  // namespace

Result<std::vector<json>> yaml_documents(const std::string& text, const std::string& file) {
    std::vector<YAML::Node> nodes;
    try {
        nodes = YAML::LoadAll(text);
    } catch (const YAML::Exception& e) {
        return make_error(CTR_E_INVALID_ARGUMENT, file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    std::vector<json> docs;
    for (const auto& n : nodes) {
        json j = CTR_TRY(to_json(n, file));
        if (!j.is_null()) docs.push_back(std::move(j));
    }
    return docs;
}

}  // namespace ctr::compose
