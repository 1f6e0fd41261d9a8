// The CLI's shared state and the registration function of each command group.
#pragma once

#include <ctr/base/log.hpp>
#include "api/client.hpp"
#include <ctr/base/paths.hpp>

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace ctr::cli {

struct Globals {
    bool debug = false;
    std::string root;     // --root; empty: $CONTAINER_ROOT, or Paths' default
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

// A client for the daemon of g's root, started first when none answers
// ("container: started the API server ..." on stderr).
Result<api::Client> daemon_client(const Globals& g);
// The daemon of g's root if one answers; never starts one.
api::Client existing_daemon(const Globals& g);

// Listing flags every `ls` has: --format table|json|TEMPLATE, -q,
// -f/--filter KEY=VALUE (docker's filters) and --no-trunc.
struct ListFlags {
    std::string format = "table";
    bool quiet = false;
    std::vector<std::string> filters;
    bool no_trunc = false;
};
void add_list_flags(CLI::App* cmd, ListFlags& flags);

// Prints `error` as "container: message" and returns the engine exit code.
int fail(const Error& error);

// Prints the "warnings" a start reply carries, one "container: warning: ..." line each.
void print_warnings(const nlohmann::json& reply);

// "k=v" strings into an object; `what` (the flag) goes into the error.
Result<nlohmann::json> key_values(const std::vector<std::string>& items, const std::string& what);

void add_system_commands(CLI::App& app, Globals& g);
// `system oci-config ENGINE`, under `system`.
void add_oci_config_command(CLI::App& system, Globals& g);
// `system dns create|delete|ls`, under `system`.
void add_dns_commands(CLI::App& system, Globals& g);
// The plugins' commands under `system` (after add_system_commands), found on
// `paths`' plugin search path. Returns their names.
std::vector<std::string> add_plugin_commands(CLI::App& app, Globals& g, const Paths& paths);
void add_volume_commands(CLI::App& app, Globals& g);
void add_event_commands(CLI::App& app, Globals& g);
void add_container_commands(CLI::App& app, Globals& g);
void add_image_commands(CLI::App& app, Globals& g);
void add_run_commands(CLI::App& app, Globals& g);
void add_registry_commands(CLI::App& app, Globals& g);
void add_stats_command(CLI::App& app, Globals& g);
void add_rename_top_export(CLI::App& app, Globals& g);
// For `run`/`create`: inserts "--" after IMAGE so that the container's
// command keeps its own flags (`run busybox ls -l`).
std::vector<std::string> end_options_after_image(const CLI::App& app, std::vector<std::string> args);
void add_network_commands(CLI::App& app, Globals& g);
void add_cp_command(CLI::App& app, Globals& g);
void add_compose_commands(CLI::App& app, Globals& g);
void add_kube_commands(CLI::App& app, Globals& g);
// port, history, info, help (cmd_habits.cpp); `image history`.
void add_habit_commands(CLI::App& app, Globals& g);
void add_build_commands(CLI::App& app, Globals& g);  // build, builder du|prune
void add_image_history(CLI::App* image, Globals& g);
// pause, unpause, update (cmd_update.cpp).
void add_update_commands(CLI::App& app, Globals& g);
void add_commit_commands(CLI::App& app, Globals& g);  // diff, commit
// `plugin new` (cmd_plugin.cpp).
void add_plugin_group(CLI::App& app, Globals& g);
// `completion bash|zsh|fish`, and the hidden `__complete` its scripts call.
void add_completion_commands(CLI::App& app, Globals& g);

// Pulls through the daemon with progress on stderr (image pull, run, create).
Result<nlohmann::json> pull_image(const api::Client& client, const std::string& reference, const std::string& platform,
                                  int max_downloads, const std::string& progress_mode);

}  // namespace ctr::cli
