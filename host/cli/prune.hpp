// The prune commands: each kind's (`prune`, `image prune`, `network prune`,
// `volume prune`) and `system prune`, which runs them in docker's order.
// All take docker's --filter until=, label= and label!=.
#pragma once

#include "cli/app.hpp"

#include <string>

namespace ctr::cli {

struct PruneKind {
    const char* path;      // "/v1/images/prune"
    const char* all_help;  // the -a flag's help; nullptr: the kind has no -a
};

void add_prune_command(CLI::App* parent, Globals& g, const PruneKind& kind, const std::string& description);
void add_system_prune(CLI::App* system, Globals& g);

}  // namespace ctr::cli
