// The objects the daemon owns, as the state database holds them.
#pragma once

#include "store/container_config.hpp"
#include "store/container_state.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ctr::store {

// A resource moves creating -> ready (or created/running/stopped for
// containers) -> removing -> gone. A row found in "creating" or "removing"
// at daemon start is a change a crash interrupted: the daemon rolls it back
// or finishes it (see services/reconcile).
struct VolumeRecord {
    std::string name;
    std::string driver = "local";
    std::string mountpoint;
    nlohmann::json labels = nlohmann::json::object();
    nlohmann::json options = nlohmann::json::object();
    bool anonymous = false;
    std::string state;
    int64_t created_at = 0;

    nlohmann::json to_json() const;
};

struct ContainerRecord {
    std::string id;
    std::string name;
    std::string image;
    std::string runtime;
    ContainerState state = ContainerState::creating;
    nlohmann::json config = nlohmann::json::object();
    nlohmann::json labels = nlohmann::json::object();
    int64_t created_at = 0;
    std::optional<int64_t> started_at, finished_at, exit_code, pid;
    // What the runtime warned of at this start: passed on, never stored.
    std::vector<std::string> warnings;
    // Frozen by `pause`: read from the container's folder, never stored here.
    bool paused = false;
    // The kernel's OOM killer struck in its cgroup before its last exit:
    // read from that exit's record in its folder, never stored here.
    bool oom_killed = false;

    // `config` through its typed view: what the daemon reads of it.
    ContainerConfig settings() const { return ContainerConfig::of(config); }

    nlohmann::json to_json() const;
};

struct ImageRecord {
    std::string reference;
    std::string digest;
    int64_t size = 0;
    nlohmann::json config = nlohmann::json::object();
    int64_t created_at = 0;

    nlohmann::json to_json() const;
};

struct NetworkRecord {
    std::string name;
    std::string subnet, gateway;
    bool internal = false;
    nlohmann::json labels = nlohmann::json::object();
    nlohmann::json options = nlohmann::json::object();
    std::string state;
    int64_t created_at = 0;

    nlohmann::json to_json() const;
};

}  // namespace ctr::store
