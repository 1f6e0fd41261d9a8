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

// The format of config.toml this build reads (its top-level `version`; a
// file without one is taken as this). A newer one stops the daemon with a
// message, rather than half-understood.
inline constexpr int64_t kConfigVersion = 1;

struct SystemConfig {
    double container_cpus = 0;          // 0: no limit
    int64_t container_memory = 0;       // bytes; 0: no limit
    // Plugins by kind: "" is the only loaded plugin of the kind, or (for
    // runtimes, of which several are usual) the one whose manifest says
    // `default = true`; several and none chosen is an error naming them.
    std::string container_runtime;
    // Who makes containers' cgroups: "systemd" (a transient scope each, in
    // a slice per root, through systemd's D-Bus API: the runtime asks),
    // "cgroupfs" (the runtime makes directories itself) or "auto" (systemd
    // where it is PID 1 on a cgroup v2 host and its bus answers).
    std::string container_cgroup_manager = "auto";
    std::string image_plugin;
    std::string network_plugin;
    // How long one call to the image or network plugin may take before its
    // process is killed and restarted (0: the manifest's call_timeout_ms,
    // else 10 minutes). Progress events (pull, push) renew it.
    int image_call_timeout_ms = 0;
    int network_call_timeout_ms = 0;
    std::string network_subnet_pool = "10.213.0.0/16";
    int network_prefix_length = 24;
    std::string network_default = "default";
    std::string registry_domain = "docker.io";
    std::vector<std::string> registry_insecure;
    int registry_max_concurrent_downloads = 3;
    std::string log_level = "info";
    // The Docker Engine API on <root>/run/container/docker.sock.
    bool docker_api_enabled = true;
    // The group whose members may use the daemon's sockets (0660; 0600 when
    // no group of that name exists). Membership is root-equivalent.
    std::string api_group = "container";
    // Where `system dns` writes its entries (apiserver/dns_hosts.hpp).
    std::string dns_hosts_file = "/etc/hosts";
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
