// OCI bundles for runtime rules: a busybox root filesystem and a config.json.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace ctr::conformance {

// A static busybox on this host, or an error saying how to get one.
Result<std::filesystem::path> find_busybox();

// Makes dir/rootfs (busybox and its applet links, /proc, /dev, /tmp) once.
Status make_rootfs(const std::filesystem::path& rootfs);

// A complete OCI runtime spec (1.0.2) running `args` in rootfs "rootfs".
nlohmann::json default_spec(const std::vector<std::string>& args);

// Writes dir/config.json for `args`, sharing rootfs with other bundles in
// `work` (dir/rootfs is a symlink-free copy via bind of the same tree: the
// spec points at an absolute path).
Result<std::filesystem::path> make_bundle(const std::filesystem::path& work, const std::string& name,
                                          const std::vector<std::string>& args);

}  // namespace ctr::conformance
