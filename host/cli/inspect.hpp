// `inspect` for every kind of object: our JSON, or with -f a Go template
// over docker's inspect fields (and ours where docker has no such name).
#pragma once

#include "cli/app.hpp"

#include <string>
#include <vector>

namespace ctr::cli {

enum class ObjectKind { Container, Image, Network, Volume };

// Adds `inspect` under `parent`, for names of `kinds` (tried in that
// order; more than one kind adds --type to pick one).
void add_inspect_command(CLI::App* parent, Globals& g, std::vector<ObjectKind> kinds, const std::string& description);

}  // namespace ctr::cli
