// The plugin registry: every plugin found on the search path, its state
// (loaded, skipped, failed, duplicate) with a one-line reason, and the loaded
// instances. It owns the instances for its lifetime.
#pragma once

#include <ctr/pluginhost/discovery.hpp>
#include <ctr/pluginhost/loader.hpp>
#include <ctr/pluginhost/probe.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ctr::pluginhost {

struct PluginEntry {
    std::string name;
    std::string kind;     // "runtime", "network", "image" or "unknown"
    std::string version;
    std::string abi;      // negotiated "1.0" when loaded, else what the manifest states
    std::filesystem::path path;      // the plugin's folder
    std::string description;
    std::string isolation;  // the manifest's: "", "none", "namespaces" or "vm"
    PluginState state = PluginState::failed;
    std::string reason;   // empty when loaded
    bool is_default = false;  // its manifest's `default = true`
    std::unique_ptr<LoadedPlugin> plugin;

    nlohmann::json to_json() const;  // name, kind, version, abi, isolation, path, state, reason, and host_pid
                                     // (its process) when it runs in one
};

struct RegistryOptions {
    std::vector<std::filesystem::path> dirs;   // from search_path()
    std::string host_version;
    std::filesystem::path state_root;          // plugin state dirs: <state_root>/<name>
    std::filesystem::path probe_exe;           // empty: load without probing first
    std::filesystem::path probe_cache;         // empty: no cache
    int probe_timeout_ms = 10000;              // an init slower than this is "hung"
    bool load = true;                          // false: discover and probe only
    std::vector<int> load_kinds;               // kinds to load in-process; empty: all
    std::string only_name;                     // set: probe and load only this plugin
    // Set: network and image plugins run each in a process of its own
    // (this program, remote.hpp) rather than in this one.
    std::filesystem::path plugin_host_exe;
    std::filesystem::path plugin_host_log;  // where their output goes; empty: our stderr
    // Per kind, the operator's deadline for one call (0: the manifest's,
    // else the default below).
    std::map<int, int> call_timeout_ms;
    // By kind: the network namespace its plugin host processes run in (a
    // rootless daemon's network plugin works in a namespace of its own).
    std::map<int, std::filesystem::path> plugin_netns;
    int default_call_timeout_ms = 600000;
};

class Registry {
public:
    static std::unique_ptr<Registry> scan(const RegistryOptions& options);

    const std::vector<PluginEntry>& entries() const { return entries_; }
    const PluginEntry* find(const std::string& name) const;
    // A loaded plugin of that name and kind, or an error that lists the
    // loaded plugins of the kind (for --runtime NAME).
    Result<LoadedPlugin*> get(const std::string& name, ctr_kind kind) const;

    // The name of the plugin of `kind` to use: `configured` when set (it must
    // be usable); else the only usable plugin of the kind; else the one of
    // them whose manifest says `default = true`. None, or several and none
    // chosen, is an error that names the candidates and `chooser`, what the
    // user sets to choose ("[image] plugin in config.toml", "--plugin").
    Result<std::string> choose(ctr_kind kind, const std::string& configured, const std::string& chooser) const;

    // choose() with nothing configured, from the manifests alone: no plugin
    // is probed or loaded (for a tool that then loads only that one).
    static Result<std::string> default_of(RegistryOptions options, ctr_kind kind, const std::string& chooser);

private:
    std::vector<PluginEntry> entries_;
};

}  // namespace ctr::pluginhost
