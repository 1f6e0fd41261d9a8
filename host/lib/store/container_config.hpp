// A container's stored configuration (containers.config in the state
// database), read through one typed view instead of by key all over the
// daemon. The stored JSON is the run request as the API took it
// (services::RunRequest::to_json) plus what the daemon learned making the
// container; `schema` says which version wrote it, and migrate_config
// brings an older one up to date when the store reads it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ctr::store {

struct ContainerConfig {
    // 1: before the field existed (phase one); 2: schema stamped, every
    // field below present.
    static constexpr int kSchema = 2;

    bool tty = false;
    bool interactive = false;
    bool remove = false;                 // --rm
    std::string restart = "no";          // no | always | unless-stopped | on-failure[:N]
    int64_t stop_timeout = -1;           // seconds; -1: the default
    std::string stop_signal;             // the request's, else the image's; "": SIGTERM
    nlohmann::json healthcheck;          // null: none
    nlohmann::json networks = nlohmann::json::array();             // names asked for
    nlohmann::json network_attachments = nlohmann::json::array();  // what the network plugin gave
    std::string ip, mac_address;         // asked for on the first network; "": any
    std::string writable_dir;            // the image plugin's container layer; "": none
    std::vector<std::string> lower_dirs;  // the image's layers beneath it, top first; none: read from the mount
    std::string image_digest;
    std::string pid_mode, ipc_mode;      // "", "host" or "container:NAME" (joined at each start)
    // The bound of each log (services/log_options.hpp); older containers
    // get the default bound too.
    static constexpr int64_t kDefaultLogMaxSize = int64_t{20} << 20;
    static constexpr int64_t kDefaultLogMaxFile = 5;
    int64_t log_max_size = kDefaultLogMaxSize;  // 0: unbounded
    int64_t log_max_file = kDefaultLogMaxFile;

    // The typed view of a stored (and migrated) config; missing fields keep
    // their defaults, fields of another type read as their defaults.
    static ContainerConfig of(const nlohmann::json& stored);
};

// `stored` as this version writes it: schema stamped, defaults filled in
// for what an older version did not write. Idempotent.
nlohmann::json migrate_config(nlohmann::json stored);

}  // namespace ctr::store
