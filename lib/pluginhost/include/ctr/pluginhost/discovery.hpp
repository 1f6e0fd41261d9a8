// Finding plugins: an ordered list of directories, each holding one folder
// per plugin with a config.toml inside. The first plugin of a name wins.
#pragma once

#include <ctr/pluginhost/manifest.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace ctr::pluginhost {

struct SearchPathInputs {
    std::vector<std::filesystem::path> build_dirs;  // used only when running from the build tree
    bool running_from_build_tree = false;
    std::filesystem::path install_dir;               // <prefix>/lib/container/plugins
    std::filesystem::path etc_dir;                   // <root>/etc/container/plugins
    std::string env_path;                            // $CONTAINER_PLUGIN_PATH, colon-separated
};

// The directories to scan, in order: build tree, install prefix, etc dir,
// then $CONTAINER_PLUGIN_PATH. Empty entries are dropped.
std::vector<std::filesystem::path> search_path(const SearchPathInputs& in);

struct Candidate {
    std::filesystem::path dir;        // the plugin's folder
    std::filesystem::path manifest;   // dir/config.toml
    Result<Manifest> parsed;
};

// Every plugin folder in `dirs`, in order; folders within one directory
// sorted by name. Missing directories are skipped silently.
std::vector<Candidate> scan_dirs(const std::vector<std::filesystem::path>& dirs);

}  // namespace ctr::pluginhost
