// Commands that plugins add to the CLI (a manifest's [[commands]]), found
// and run without the host knowing any plugin: `container system NAME ARGS`
// runs the program a plugin names, and the daemon runs each command's
// start_args when it starts if the plugin's setting start_when is true.
#pragma once

#include <ctr/base/paths.hpp>
#include <ctr/pluginhost/manifest.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ctr::pluginhost {

struct FoundCommand {
    std::string plugin;                  // the plugin that provides it
    PluginCommand command;
    std::string settings_json = "{}";    // the plugin's settings, the operator's merged in
    std::filesystem::path state_dir;     // the plugin's state directory
};

// Every command of the plugins that discovery finds on `paths`' search
// path, the first of a name winning, in discovery order.
std::vector<FoundCommand> plugin_commands(const Paths& paths);

std::optional<FoundCommand> find_plugin_command(const Paths& paths, const std::string& name);

// What the program finds in its environment besides the caller's, as
// "KEY=VALUE": its plugin's state dir and settings (kCommandStateDirEnv,
// kCommandConfigEnv).
std::vector<std::string> command_env(const FoundCommand& c);

// True when the daemon should run the command's start_args as it starts:
// it has some, and the plugin's boolean setting start_when is true.
bool start_due(const FoundCommand& c);

}  // namespace ctr::pluginhost
