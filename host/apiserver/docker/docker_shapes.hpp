// Our records in Docker's shapes: a container as /containers/json lists it
// and as /containers/{id}/json inspects it (State with Health, Config,
// HostConfig, NetworkSettings with Ports and Networks never null, Mounts).
#pragma once

#include "apiserver/containers.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace ctr::apiserver::docker {

// Docker's zero time ("0001-01-01T00:00:00Z") for what has not happened.
std::string docker_time(std::optional<int64_t> unix_seconds);
// created | running | exited, as Docker names a state.
std::string docker_state(const store::ContainerRecord& c);
// "healthy", "unhealthy", "starting", or "none" without a check.
std::string health_status(const Containers& cs, const store::ContainerRecord& c);
// The names of the networks the container is attached to or asked for.
std::vector<std::string> network_names(const store::ContainerRecord& c);
// Docker's Mounts: [{Type, Name?, Source, Destination, RW, ...}].
nlohmann::json mounts_of(const Containers& cs, const store::ContainerRecord& c);

nlohmann::json summary_of(const Containers& cs, const store::ContainerRecord& c);
nlohmann::json inspect_of(const Containers& cs, const store::ContainerRecord& c);

}  // namespace ctr::apiserver::docker
