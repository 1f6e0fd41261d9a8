// The CLI's shared state and the registration function of each command group.
#pragma once

#include "base/log.hpp"
#include "base/paths.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace ctr::cli {

struct Globals {
    bool debug = false;
    std::string root;     // --root; empty: $CONTAINER_ROOT or "/"
    int exit_code = 0;

    Paths paths() const { return Paths(root); }
};

// Runs `body` as the command's action, with logging set up from the global
// flags, and records its exit code.
inline void on_run(CLI::App* cmd, Globals& g, std::function<int()> body) {
    cmd->callback([&g, body = std::move(body)] {
        ctr::log::init("container", g.debug);
        g.exit_code = body();
    });
}

void add_system_commands(CLI::App& app, Globals& g);

}  // namespace ctr::cli
