// What `container compose` does with a loaded project, through the daemon's
// API: up (networks, volumes, then containers in dependency order, each one
// kept, started or recreated by its config hash), down, and the lookups the
// other subcommands share. Client side, as Docker's compose is: the daemon
// knows nothing of projects but their labels.
#pragma once

#include "api/client.hpp"
#include "compose/project.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ctr::cli {

// The flags that say which project: -f files, --env-file, -p, --project-directory.
struct ComposeFlags {
    std::vector<std::string> files, env_files;
    std::string project, project_dir;
};

// Reads the project they name (the environment for ${VAR}); its warnings on stderr.
Result<compose::Project> load_project(const ComposeFlags& f);

struct UpOptions {
    std::vector<std::string> services;  // empty: all
    bool remove_orphans = false;
    std::string progress = "auto";      // for pulls
    int wait_timeout_s = 300;           // for depends_on conditions
    bool build = false;                 // --build: build the services that build, even when their image exists
};

// Builds a service's image from its build: section (context, dockerfile,
// args, target, labels), named by its image.
Status build_service(const api::Client& client, const compose::Project& project, const std::string& service, bool no_cache, bool pull);

// Brings the project up. On an error nothing this call made is left behind.
Status compose_up(const api::Client& client, const compose::Project& project, const UpOptions& options);

// Removes the project's containers and networks (and its volumes with `volumes`).
Status compose_down(const api::Client& client, const std::string& project, bool volumes);

// Stops `containers` (the daemon's container json), dependents before what
// they depend on (the depends_on label), each group at once: the time is the
// slowest grace period of each level, not the sum of all. " Stopped NAME"
// on stderr for each; the first error is returned once all have run.
Status stop_in_order(const api::Client& client, const std::vector<nlohmann::json>& containers);

// The project's containers (all states), each the daemon's container json.
Result<std::vector<nlohmann::json>> project_containers(const api::Client& client, const std::string& project);

// The container of `service` among `containers`, or null.
nlohmann::json container_of(const std::vector<nlohmann::json>& containers, const std::string& service);

std::string service_of(const nlohmann::json& container);

}  // namespace ctr::cli
