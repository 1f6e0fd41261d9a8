// container: the command-line interface. Parsing and rendering only; the
// work happens in the libraries (and, with the API server, in the daemon).
#include <ctr/base/log.hpp>
#include "build_config.hpp"
#include "cli/shortcuts.hpp"
#include "cli/app.hpp"
#include "cli/full_cli.hpp"
#include "cli/command_path.hpp"
#include "cli/output.hpp"

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <string_view>

namespace {

// Where the command word is in `args` (after the global options), and the
// --root given before it, if any: what plugin discovery needs before parsing.
size_t command_index(const std::vector<std::string>& args, std::string* root) {
    size_t i = 1;
    while (i < args.size()) {
        if (args[i] == "--root" && i + 1 < args.size()) {
            *root = args[i + 1];
            i += 2;
        } else if (args[i].rfind("--root=", 0) == 0) {
            *root = args[i].substr(7);
            ++i;
        } else if (!args[i].empty() && args[i][0] == '-') {
            ++i;
        } else {
            break;
        }
    }
    return i;
}

// Which registration function makes each top-level command (and its
// aliases). A command line whose command word is here builds that group's
// commands alone: building the parser for all of them, some 500 flags, took
// about 3 ms of every command's start. Any other line (no word, help,
// completion, a mistyped word) builds them all. The integration test
// "every top-level command ..." holds this table to what is registered.
struct CommandGroup {
    std::initializer_list<std::string_view> words;
    void (*add)(CLI::App&, ctr::cli::Globals&);
};

const CommandGroup kGroups[] = {
    {{"run", "attach", "create", "start", "stop", "restart", "kill", "logs", "exec", "wait"}, ctr::cli::add_run_commands},
    {{"ls", "list", "ps", "inspect", "rm", "delete", "prune"}, ctr::cli::add_container_commands},
    {{"image", "i"}, ctr::cli::add_image_commands},
    {{"network", "n"}, ctr::cli::add_network_commands},
    {{"volume", "v"}, ctr::cli::add_volume_commands},
    {{"events"}, ctr::cli::add_event_commands},
    {{"registry", "r"}, ctr::cli::add_registry_commands},
    {{"stats"}, ctr::cli::add_stats_command},
    {{"rename", "top", "export"}, ctr::cli::add_rename_top_export},
    {{"cp", "copy"}, ctr::cli::add_cp_command},
    {{"compose"}, ctr::cli::add_compose_commands},
    {{"kube"}, ctr::cli::add_kube_commands},
    {{"system", "s"}, ctr::cli::add_system_commands},
    {{"port", "history", "info"}, ctr::cli::add_habit_commands},
    {{"build", "builder"}, ctr::cli::add_build_commands},
    {{"pause", "unpause", "update"}, ctr::cli::add_update_commands},
    {{"diff", "commit"}, ctr::cli::add_commit_commands},
    {{"plugin"}, ctr::cli::add_plugin_group},
    {{"completion"}, ctr::cli::add_completion_commands},
};

void add_commands(CLI::App& app, ctr::cli::Globals& g, const std::string& word) {
    for (const auto& group : kGroups)
        if (std::find(group.words.begin(), group.words.end(), word) != group.words.end()) return group.add(app, g);
    for (const auto& group : kGroups) group.add(app, g);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace ctr::cli;
    remember_args(argv);
    std::vector<std::string> args(argv, argv + argc);
    // Plugins' commands live under `system`; found only when that is the
    // command, so that other commands pay nothing for them. `system NAME
    // ARGS...` passes ARGS on untouched.
    std::string root;
    size_t at = command_index(args, &root);
    // What the completion scripts ask about is words, not this command's flags.
    if (at < args.size() && args[at] == "__complete") args.insert(args.begin() + static_cast<long>(at) + 1, "--");
    // `help CMD...` is `CMD... --help`.
    if (at < args.size() && args[at] == "help") {
        args.erase(args.begin() + static_cast<long>(at));
        args.push_back("--help");
    }
    expand_shortcut(args, at);

    Globals g;
    CLI::App app{"container: run OCI images as containers on Linux", "container"};
    app.set_version_flag("--version", std::string("container version ") + CTR_VERSION);
    app.add_flag("--debug", g.debug, "log debug messages")->envname("CONTAINER_DEBUG");
    app.add_option("--root", g.root, "root of all state (default $CONTAINER_ROOT, else / for root, ~/.local/share/container for others)");
    app.require_subcommand(1);
    app.fallthrough();
    app.footer(shortcuts_help());
    add_commands(app, g, at < args.size() && args[at] != "--help" ? args[at] : "");
    args = end_options_after_image(app, args);
    if (at + 1 < args.size() && (args[at] == "system" || args[at] == "s")) {
        auto names = add_plugin_commands(app, g, ctr::Paths(root));
        if (at + 2 < args.size() && std::find(names.begin(), names.end(), args[at + 1]) != names.end() && args[at + 2] != "--")
            args.insert(args.begin() + static_cast<long>(at) + 2, "--");
    }
    // A mistyped command is named as such, with the nearest one.
    auto path = locate_command(app, std::vector<std::string>(args.begin() + 1, args.end()));
    if (!path.unknown.empty()) {
        std::string where = command_line_of(path);
        std::fprintf(stderr, "container: unknown command \"%s\" for \"%s\"%s\nRun '%s --help' for usage.\n",
                     path.unknown.c_str(), where.c_str(),
                     path.nearest.empty() ? "" : ("; did you mean \"" + path.nearest + "\"?").c_str(), where.c_str());
        return kExitEngine;
    }
    std::reverse(args.begin(), args.end());
    args.pop_back();  // CLI11 takes the arguments reversed, without the program name
    try {
        app.parse(args);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        // Usage errors are engine errors (125), as Docker's are.
        std::fprintf(stderr, "container: %s\nRun '%s --help' for usage.\n", e.what(), command_line_of(path).c_str());
        return kExitEngine;
    }
    return g.exit_code;
}
