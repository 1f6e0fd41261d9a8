// container-oci's commands: runc's command line over one runtime plugin,
// called through the C ABI in this process (no daemon). An engine (podman,
// containerd's shim, docker) runs a fresh container-oci per operation, as it
// runs runc; what must outlive a call is the plugin's own state (under
// --root) and one record per container here, which says it exists.
#pragma once

#include <ctr/pluginhost/registry.hpp>
#include <ctr/sdk/result.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ctr::oci {

struct MonitorPaths;

struct Globals {
    std::string root = "/run/container-oci";  // runc's --root: our state, and the plugins' under it
    std::string plugin;  // empty: the default runtime plugin
};

struct CreateOptions {
    std::string bundle = ".";
    std::string pid_file, console_socket;
    int preserve_fds = 0;
};

struct ExecOptions {
    std::string process_file, pid_file, console_socket, cwd, user;
    std::vector<std::string> env, args;
    bool detach = false, tty = false;
};

class Front {
public:
    static Result<std::unique_ptr<Front>> open(const Globals& g);

    int create(const std::string& id, const CreateOptions& o);
    int start(const std::string& id);
    int run(const std::string& id, const CreateOptions& o, bool detach);
    int state(const std::string& id);
    int kill(const std::string& id, const std::string& signal, bool all);
    int remove(const std::string& id, bool force);
    int list(const std::string& format, bool quiet);
    int ps(const std::string& id, const std::string& format);
    int exec(const std::string& id, const ExecOptions& o);
    int pause(const std::string& id, bool resume);
    int update(const std::string& id, const std::string& resources_file);
    int events(const std::string& id, bool stats_once, int interval_s);
    // After the plugin crashed in call `op` on `id` (CrashGuard's exec):
    // reports the crash, and after create removes what was made; 1.
    int after_crash(const std::string& id, const std::string& op, const std::string& signal);
    // The monitor of a container of a plugin that holds its containers
    // (monitor.hpp): creates it from `request` and serves it; reports on sync_fd.
    int monitor(const std::string& id, const std::string& request, int sync_fd);

private:
    Front() = default;
    Result<nlohmann::json> call(ctr_op op, const nlohmann::json& req, const char* name);
    std::filesystem::path record_of(const std::string& id) const;
    // The plugin's state of a container we made; runc's "does not exist" otherwise.
    Result<nlohmann::json> known_state(const std::string& id);
    int created(const std::string& id, const CreateOptions& o, bool keep_stdio_ours);
    // This program again, on the same root, plugin and log, running `command`.
    std::vector<std::string> self_argv(std::initializer_list<std::string> command) const;
    int exec_waited_by_child(const std::string& id, const ExecOptions& o, const nlohmann::json& process);
    // What create did in this process, done by a monitor process instead.
    Result<nlohmann::json> create_in_monitor(const std::string& id, const nlohmann::json& req);
    // A held container's call when its monitor is gone: it has ended.
    Result<nlohmann::json> after_monitor(const std::string& id, const char* name, const nlohmann::json& req);
    struct MonitorPaths monitor_paths(const std::string& id) const;

    Globals g_;
    std::unique_ptr<pluginhost::Registry> registry_;
    const ctr_runtime_v1* rt_ = nullptr;
    ctr_plugin* inst_ = nullptr;
    bool holds_containers_ = false;  // the manifest's word: containers live in monitors
};

// g.plugin, or the default runtime plugin when it is empty.
Result<std::string> plugin_named(const Globals& g);

// The plugin for container `id`: the one that made it (its record), else,
// at create (`bundle` given), the bundle's config.json annotation
// org.container.oci.plugin, else g.plugin (--plugin or the program's name;
// empty: the default, which Front::open resolves).
std::string plugin_for(const Globals& g, const std::string& id, const std::string& bundle);

// A signal by name ("KILL", "SIGKILL") or number; 0 when unknown.
int parse_signal(const std::string& s);

}  // namespace ctr::oci
