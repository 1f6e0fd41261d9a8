// Which command a command line names, found before CLI11 parses it, so that
// a mistyped command gets `unknown command "ps"` with the nearest name
// instead of CLI11's "A subcommand is required", and a usage error points to
// the help of the command it is about.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace ctr::cli {

struct CommandPath {
    std::vector<std::string> names;  // "system", "stop": the commands found, in order
    std::string unknown;             // the word where a command was required but none matched
    std::string nearest;             // the command (or alias) closest to `unknown`, if close enough
};

// `args`: the command line without the program name, in order.
CommandPath locate_command(const CLI::App& app, const std::vector<std::string>& args);

// "container system stop": the program and the commands found.
std::string command_line_of(const CommandPath& path);

}  // namespace ctr::cli
