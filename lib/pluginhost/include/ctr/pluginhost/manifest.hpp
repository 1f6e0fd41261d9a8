// A plugin's manifest: the config.toml beside its library.
//
//   name = "runtime-linux"        # [a-z0-9][a-z0-9._-]*, at most 63 characters
//   kind = "runtime"              # runtime | network | image
//   abi = "1.0"                   # the ABI major.minor the plugin was built for
//   library = "libruntime-linux.so"  # relative to this file
//   version = "0.1.0"
//   description = "..."           # optional
//   [settings]                    # optional, plugin-specific, handed to the plugin as JSON
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

namespace ctr::pluginhost {

struct Manifest {
    std::filesystem::path file;     // the config.toml
    std::string name;
    ctr_kind kind = CTR_KIND_RUNTIME;
    uint32_t abi_major = 0;
    uint32_t abi_minor = 0;
    std::filesystem::path library;  // absolute
    std::string version;
    std::string description;
    std::string settings_json = "{}";
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
