// The system configuration: <root>/etc/container/config.toml (documented,
// with every default, in configs/config.toml). Parsing is strict: a syntax
// error, an unknown key or a wrong type is an error naming the file, the
// line and the key, and the daemon does not start on it.
#pragma once

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace ctr::config {

struct SystemConfig {
    double container_cpus = 0;          // 0: no limit
    int64_t container_memory = 0;       // bytes; 0: no limit
    std::string container_runtime = "runtime-linux";
    std::string network_subnet_pool = "10.213.0.0/16";
    int network_prefix_length = 24;
    std::string network_default = "default";
    std::string registry_domain = "docker.io";
    std::vector<std::string> registry_insecure;
    int registry_max_concurrent_downloads = 3;
    std::string log_level = "info";
    bool kernel_auto_update = false;     // check for a newer guest kernel at daemon start
    std::string kernel_update_from;      // a directory of kernel packages; "": apt
    // [plugins.NAME] tables: settings over plugin NAME's manifest, key by key.
    nlohmann::json plugin_settings = nlohmann::json::object();

    // Flat "section.key" -> value, as `system property ls` shows it.
    nlohmann::json properties() const;
};

// Defaults when `file` does not exist.
Result<SystemConfig> load(const std::filesystem::path& file);

// Checks an IPv4 CIDR: address, prefix 0-32, no host bits set.
Status check_cidr(const std::string& cidr, const std::string& what);

}  // namespace ctr::config
