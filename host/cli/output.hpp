// Rendering for the CLI: aligned tables, JSON, and one-line errors on stderr.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ctr::cli {

// Exit codes, as Docker's: the container's own for run; these for the engine.
inline constexpr int kExitEngine = 125;        // the daemon or the CLI failed, or bad usage
inline constexpr int kExitCannotInvoke = 126;  // the command could not be invoked
inline constexpr int kExitNotFound = 127;      // the command was not found

// Columns padded to the widest cell plus three spaces, like `docker ps`.
std::string render_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// Prints JSON, two-space indented, with a trailing newline.
void print_json(const nlohmann::json& j);

// "container: <message>" on stderr; returns `code` so callers can `return error(...)`.
int error(const std::string& message, int code = kExitEngine);

}  // namespace ctr::cli
