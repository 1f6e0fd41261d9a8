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

}  // namespace

int main(int argc, char** argv) {
    using namespace ctr::cli;
    remember_args(argv);
    Globals g;
    CLI::App app{"container: run OCI images as containers on Linux", "container"};
    app.set_version_flag("--version", std::string("container version ") + CTR_VERSION);
    app.add_flag("--debug", g.debug, "log debug messages")->envname("CONTAINER_DEBUG");
    app.add_option("--root", g.root, "root of all state (default $CONTAINER_ROOT, else /)");
    app.require_subcommand(1);
    app.fallthrough();
    app.footer(shortcuts_help());

    add_run_commands(app, g);
    add_container_commands(app, g);
    add_image_commands(app, g);
    add_network_commands(app, g);
    add_volume_commands(app, g);
    add_event_commands(app, g);
    add_registry_commands(app, g);
    add_stats_command(app, g);
    add_rename_top_export(app, g);
    add_cp_command(app, g);
    add_compose_commands(app, g);
    add_kube_commands(app, g);
    add_system_commands(app, g);
    add_habit_commands(app, g);
    add_build_commands(app, g);
    add_update_commands(app, g);
    add_commit_commands(app, g);
    add_plugin_group(app, g);
    add_completion_commands(app, g);

    std::vector<std::string> args(argv, argv + argc);
    args = end_options_after_image(app, args);
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
