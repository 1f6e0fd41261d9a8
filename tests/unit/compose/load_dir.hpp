// The unit tests' way to read a Compose project: the default file in `dir`,
// with no environment for ${VAR} (a .env in `dir` still counts).
#pragma once

#include "compose/project.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace ctr::test {

inline Result<compose::Project> load_dir(const std::filesystem::path& dir) {
    compose::LoadOptions o;
    o.working_dir = dir;
    o.environment = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    return compose::load(o);
}

}  // namespace ctr::test
