// Compose's variable syntax in values: $VAR, ${VAR}, ${VAR:-default} (unset
// or empty), ${VAR-default} (unset), ${VAR:?message} and ${VAR?message}
// (an error), ${VAR:+other} and ${VAR+other}; "$$" is a literal "$".
// Defaults may hold variables themselves.
#pragma once

#include <ctr/sdk/result.hpp>

#include <functional>
#include <optional>
#include <string>

namespace ctr::compose {

// A variable's value, or nullopt when unset.
using Lookup = std::function<std::optional<std::string>(const std::string&)>;

Result<std::string> interpolate(const std::string& text, const Lookup& lookup);

}  // namespace ctr::compose
