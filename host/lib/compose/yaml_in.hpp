// YAML read into json: a plain scalar typed as YAML 1.2's core schema reads
// it (null, booleans, integers, reals, else a string); a quoted one is
// always a string.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ctr::compose {

nlohmann::json yaml_scalar(const std::string& text, bool quoted);
// A scalar as the text it was written as: "80", "true", "0.5"; "" for null;
// a list or a mapping as JSON.
std::string yaml_text(const nlohmann::json& v);

// Every document of a multi-document stream ("---" between them), empty
// ones left out. Errors name `file` and the line.
Result<std::vector<nlohmann::json>> yaml_documents(const std::string& text, const std::string& file);

}  // namespace ctr::compose
