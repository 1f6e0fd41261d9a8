#include <ctr/pluginhost/commands.hpp>

#include <ctr/pluginhost/discovery.hpp>
#include <ctr/pluginhost/host_env.hpp>

#include <nlohmann/json.hpp>

#include <set>

namespace ctr::pluginhost {

std::vector<FoundCommand> plugin_commands(const Paths& paths) {
    std::vector<FoundCommand> out;
    std::set<std::string> plugins, names;
    for (const auto& c : scan_dirs(default_registry_options(paths).dirs)) {
        if (!c.parsed || !plugins.insert(c.parsed->name).second) continue;  // as the registry: first of a name
        for (const auto& cmd : c.parsed->commands) {
            if (!names.insert(cmd.name).second) continue;
            out.push_back({c.parsed->name, cmd, c.parsed->settings_json, paths.plugin_state_dir(c.parsed->name)});
        }
    }
    return out;
}

std::optional<FoundCommand> find_plugin_command(const Paths& paths, const std::string& name) {
    for (auto& c : plugin_commands(paths))
        if (c.command.name == name) return c;
    return std::nullopt;
}

std::vector<std::string> command_env(const FoundCommand& c) {
    return {std::string(kCommandStateDirEnv) + "=" + c.state_dir.string(), std::string(kCommandConfigEnv) + "=" + c.settings_json};
}

bool start_due(const FoundCommand& c) {
    if (c.command.start_args.empty() || c.command.start_when.empty()) return false;
    auto settings = nlohmann::json::parse(c.settings_json, nullptr, false);
    if (!settings.is_object()) return false;
    auto it = settings.find(c.command.start_when);
    return it != settings.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace ctr::pluginhost
