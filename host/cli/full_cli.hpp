// The everyday `container` binary and `container-full`: one CLI, two builds.
// Commands whose code needs libarchive or yaml-cpp (cp, compose, kube) have
// their flags and help in both, their bodies only in container-full, to which
// `container` hands such a command line. Loading those libraries (and the 12
// shared libraries they bring) cost 5 ms at every start of every command here.
#pragma once

#include "cli/app.hpp"

#include <utility>

namespace ctr::cli {

// The command line as main() got it, for handing it on unchanged.
void remember_args(char** argv);
// Runs `container-full` with that command line in place of this process;
// returns only when it cannot (the exit code to give, after the error).
int run_full_cli();

// The action of such a command. Built with CTR_CLI_LEAN (`container`), the
// body is never called, so never emitted, and nothing it uses is linked.
template <class Body>
void on_run_heavy(CLI::App* cmd, Globals& g, Body&& body) {
#ifdef CTR_CLI_LEAN
    (void)body;
    on_run(cmd, g, [] { return run_full_cli(); });
#else
    on_run(cmd, g, std::forward<Body>(body));
#endif
}

}  // namespace ctr::cli
