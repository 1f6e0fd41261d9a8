// A Compose project: its files read (YAML, with .env and ${VAR}
// interpolation), checked key by key, merged in order, and normalized into
// one json model that `up` carries out and `config` prints.
//
// The model:
//   {"name", "services": {NAME: SERVICE}, "networks": {NAME: {"name", "external",
//    "internal", "labels", "subnet"?, "gateway"?}}, "volumes": {NAME: {"name",
//    "external", "labels"}}}
// where SERVICE is
//   {"image", "container_name"?, "command"?, "entrypoint"? (argv lists),
//    "environment": {K: V}, "labels": {K: V}, "ports": ["[ip:]host:ctr/proto"],
//    "volumes": [{"type": "volume"|"bind"|"tmpfs", "source", "target", "read_only"}],
//    "networks": {NAME: {"aliases": [...]}} (or "network_mode": "none"|"host"),
//    "depends_on": {SERVICE: {"condition", "required"}}, "healthcheck"?: {"test",
//    "interval", "timeout", "retries", "start_period"}, "restart", "working_dir",
//    "user", "hostname", "cpus", "memory", "pids_limit", "shm_size", "tmpfs",
//    "init", "stop_signal", "stop_grace_period" (seconds), "runtime", "tty",
//    "stdin_open", "cap_add", "cap_drop", "read_only", "dns", "dns_search",
//    "extra_hosts", "ulimits", "security_opt" (a seccomp file read into its
//    JSON), "privileged", "devices" (short strings), "sysctls" (KEY=VALUE),
//    "cgroup", "platform", "logging": {"driver", "options": {K: V}}}
// (absent keys: not set by the file).
#pragma once

#include "compose/interpolate.hpp"

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace ctr::compose {

struct LoadOptions {
    std::vector<std::string> files;          // -f, in order; empty: compose.yaml, compose.yml or docker-compose.yml
    std::string project_name;                // -p; else the files' "name", $COMPOSE_PROJECT_NAME, the directory's name
    std::filesystem::path working_dir;       // where default files and relative -f are looked for
    std::vector<std::string> env_files;      // --env-file; default <project dir>/.env when it exists
    Lookup environment;                      // the caller's environment (wins over .env files)
};

struct Project {
    std::string name;
    std::filesystem::path dir;               // the first file's directory: relative paths start here
    std::vector<std::filesystem::path> files;
    nlohmann::json model;
    std::vector<std::string> warnings;       // keys read but not acted on
};

// Errors name the file and line where they can ("compose.yaml:7: services.web.bild:
// unknown key"); semantic ones name the service ("service client: depends_on names
// an unknown service \"db\"").
Result<Project> load(const LoadOptions& options);

// "Web App" -> "webapp": lower case, [a-z0-9_-], starting with a letter or digit.
std::string normalize_project_name(const std::string& name);

}  // namespace ctr::compose
