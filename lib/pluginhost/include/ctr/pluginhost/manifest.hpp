// A plugin's manifest: the config.toml beside its library.
//
//   name = "runtime-linux"        # [a-z0-9][a-z0-9._-]*, at most 63 characters
//   kind = "runtime"              # runtime | network | image
//   abi = "1.0"                   # the ABI major.minor the plugin was built for
//   library = "libruntime-linux.so"  # relative to this file
//   version = "0.1.0"
//   description = "..."           # optional
//   isolation = "namespaces"      # optional, runtimes: what confines their containers:
//                                 # "namespaces" (namespaces, seccomp, capabilities),
//                                 # "vm" (a virtual machine each), or "none" (the host
//                                 # warns whenever a container is made with it)
//   default = true                # optional: the default of its kind when the
//                                 # system config names none and several are loaded
//   holds_containers = true       # optional, runtimes: the instance that created a
//                                 # container must live as long as it (a VM's channel in
//                                 # its memory): container-oci keeps a monitor process
//                                 # holding it per container (docs/oci-cli.md)
//   call_timeout_ms = 600000      # optional, network and image plugins: how long one
//                                 # call may take (progress renews it) before the host
//                                 # kills the plugin's process and starts it again
//   [settings]                    # optional, plugin-specific, handed to the plugin as JSON
//   [[commands]]                  # optional: commands it adds as `container system NAME`
//   name = "kernel"               #   a plugin name's characters
//   program = "container-vm-kernel"  # beside the manifest
//   summary = "..."               #   one line, for `container system --help`
//   start_args = ["update"]       #   optional: run so in the background at each daemon
//   start_when = "auto_update"    #   start, when this boolean setting is true
//
// Parsing is strict: an unknown key or a wrong type is an error that names the
// file, the line and the key, so that a typo is never silently ignored.
#pragma once

#include <ctr/plugin.h>
#include <ctr/sdk/result.hpp>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ctr::pluginhost {

// A command a plugin adds to the CLI. The host runs `program ARGS...` with
// the environment below and knows nothing else about it.
struct PluginCommand {
    std::string name;
    std::filesystem::path program;  // absolute
    std::string summary;
    std::vector<std::string> start_args;
    std::string start_when;         // a boolean setting; "" with start_args: never
};

// What a plugin's command finds in its environment.
inline constexpr const char* kCommandStateDirEnv = "CONTAINER_PLUGIN_STATE_DIR";  // the plugin's state dir
inline constexpr const char* kCommandConfigEnv = "CONTAINER_PLUGIN_CONFIG";       // its settings, as JSON

struct Manifest {
    std::filesystem::path file;     // the config.toml
    std::string name;
    ctr_kind kind = CTR_KIND_RUNTIME;
    uint32_t abi_major = 0;
    uint32_t abi_minor = 0;
    std::filesystem::path library;  // absolute
    std::string version;
    std::string description;
    std::string isolation;  // "", "none", "namespaces" or "vm"
    bool is_default = false;
    bool holds_containers = false;
    int call_timeout_ms = 0;  // 0: the host's default
    std::string settings_json = "{}";
    std::vector<PluginCommand> commands;
};

const char* kind_name(int32_t kind);
std::optional<ctr_kind> parse_kind(const std::string& s);

// True for names the host accepts: they become directory names.
bool valid_plugin_name(const std::string& name);

// Operators' settings over the manifests' own: {"NAME": {"key": value}} in
// this environment variable. The daemon sets it from the system config's
// [plugins.NAME] tables, for itself and every process it starts (probes,
// shims), so that all of them load a plugin with the same settings.
inline constexpr const char* kSettingsEnv = "CONTAINER_PLUGIN_SETTINGS";

Result<Manifest> parse_manifest(const std::filesystem::path& file);

// TOML -> JSON (for [settings] tables). Dates and times become strings.
nlohmann::json toml_to_json(const toml::node& node);

}  // namespace ctr::pluginhost
