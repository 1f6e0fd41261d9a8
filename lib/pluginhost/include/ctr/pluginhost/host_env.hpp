// Where this installation keeps its plugins and helpers, worked out once from
// the build configuration and the running executable's location.
#pragma once

#include <ctr/base/paths.hpp>
#include <ctr/pluginhost/registry.hpp>

#include <filesystem>

namespace ctr::pluginhost {

// The running executable (/proc/self/exe).
std::filesystem::path self_exe();

// True when the executable lives inside the build tree it was built in:
// then the build tree's plugins come first on the search path.
bool running_from_build_tree();

// A helper program (e.g. "container-plugin-probe"): beside this executable
// in the build tree, else in the install's libexec directory.
std::filesystem::path helper_path(const std::string& name);

// Registry options for a host working on `paths`: the search path, the
// plugins' state directories, the probe and its cache.
RegistryOptions default_registry_options(const Paths& paths);

}  // namespace ctr::pluginhost
