// From a project's model to what `up` asks the daemon for: the order in
// which services start, and each service's container (the body of POST
// /v1/containers) with the labels that tie it to the project. A hash of that
// body, kept as a label, tells `up` whether a running container is still
// what the file says.
#pragma once

#include "compose/project.hpp"

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ctr::compose {

// Labels of everything a project makes.
inline constexpr const char* kProjectLabel = "com.docker.compose.project";
inline constexpr const char* kServiceLabel = "com.docker.compose.service";
inline constexpr const char* kHashLabel = "com.docker.compose.config-hash";
// "db:service_healthy:false,cache:service_started:false", as docker compose
// writes it: what down and stop need to stop dependents first.
inline constexpr const char* kDependsOnLabel = "com.docker.compose.depends_on";
inline constexpr const char* kNetworkLabel = "com.docker.compose.network";
inline constexpr const char* kVolumeLabel = "com.docker.compose.volume";

// `selected` (all when empty) and what they depend on, dependencies first.
// An unknown name is an error.
Result<std::vector<std::string>> start_order(const Project& project, const std::vector<std::string>& selected);

std::string container_name(const Project& project, const std::string& service);

// The create body, labels included (the config hash among them).
nlohmann::json create_body(const Project& project, const std::string& service);

// The published host ports of a service: {"host_ip", "port", "protocol"} for
// those that name a host port.
std::vector<nlohmann::json> host_ports(const Project& project, const std::string& service);

}  // namespace ctr::compose
