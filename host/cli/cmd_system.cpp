// `container system ...`: plugin ls/inspect and version. (start, stop,
// status, logs, df, property arrive with the API server.)
#include "build_config.hpp"
#include "cli/app.hpp"
#include "cli/output.hpp"
#include "plugins/host_env.hpp"
#include "plugins/registry.hpp"

#include <cstdio>

namespace ctr::cli {

namespace {

std::unique_ptr<plugins::Registry> scan_plugins(const Globals& g) {
    auto options = plugins::default_registry_options(g.paths());
    return plugins::Registry::scan(options);
}

int plugin_ls(const Globals& g, const std::string& format, bool quiet) {
    auto reg = scan_plugins(g);
    if (quiet) {
        for (const auto& e : reg->entries()) std::printf("%s\n", e.name.c_str());
        return 0;
    }
    if (format == "json") {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& e : reg->entries()) arr.push_back(e.to_json());
        print_json(arr);
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : reg->entries())
        rows.push_back({e.name, e.kind, e.version, e.abi, plugins::state_name(e.state), e.reason});
    std::fputs(render_table({"NAME", "KIND", "VERSION", "ABI", "STATE", "REASON"}, rows).c_str(), stdout);
    return 0;
}

int plugin_inspect(const Globals& g, const std::vector<std::string>& names) {
    auto reg = scan_plugins(g);
    nlohmann::json arr = nlohmann::json::array();
    int rc = 0;
    for (const auto& name : names) {
        const plugins::PluginEntry* e = reg->find(name);
        if (!e) {
            rc = error("no plugin named \"" + name + "\"");
            continue;
        }
        nlohmann::json j = e->to_json();
        j["description"] = e->description;
        if (e->plugin) {
            j["library"] = e->plugin->manifest().library.string();
            j["plugin_version"] = e->plugin->plugin_version();
            j["settings"] = nlohmann::json::parse(e->plugin->manifest().settings_json, nullptr, false);
        }
        arr.push_back(j);
    }
    if (!arr.empty()) print_json(arr);
    return rc;
}

}  // namespace

void add_system_commands(CLI::App& app, Globals& g) {
    auto* system = app.add_subcommand("system", "manage the container system")->alias("s");
    system->require_subcommand(1);

    auto* version = system->add_subcommand("version", "show the version");
    static std::string version_format = "table";
    version->add_option("--format", version_format, "table or json")->check(CLI::IsMember({"table", "json"}));
    on_run(version, g, [] {
        if (version_format == "json") print_json({{"cli", {{"version", CTR_VERSION}}}});
        else std::printf("COMPONENT   VERSION\ncli         %s\n", CTR_VERSION);
        return 0;
    });

    auto* plugin = system->add_subcommand("plugin", "list and inspect plugins");
    plugin->require_subcommand(1);

    auto* ls = plugin->add_subcommand("ls", "list every plugin found, with its state")->alias("list");
    static std::string format = "table";
    static bool quiet = false;
    ls->add_option("--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));
    ls->add_flag("-q,--quiet", quiet, "print names only");
    on_run(ls, g, [&g] { return plugin_ls(g, format, quiet); });

    auto* inspect = plugin->add_subcommand("inspect", "show plugins in detail, as json");
    static std::vector<std::string> names;
    inspect->add_option("name", names, "plugin names")->required();
    on_run(inspect, g, [&g] { return plugin_inspect(g, names); });
}

}  // namespace ctr::cli
