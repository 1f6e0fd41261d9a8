// --log-driver and --log-opt: how much of a container's output is kept.
// Its output goes to files in its directory (Docker's json-file driver in
// effect: `logs` reads them back); max-size and max-file bound each stream
// to about max-size * max-file bytes (sys/log_bound.h says how), by default
// 20 MiB * 5, the default of Docker's `local` driver: a chatty container
// never fills the disk unless its user asks for that (max-size=-1).
#pragma once

#include "store/container_config.hpp"

#include <ctr/sdk/result.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace ctr::services {

struct LogOptions {
    static constexpr int64_t kDefaultMaxSize = store::ContainerConfig::kDefaultLogMaxSize;
    static constexpr int64_t kDefaultMaxFile = store::ContainerConfig::kDefaultLogMaxFile;

    std::string driver = "json-file";
    int64_t max_size = kDefaultMaxSize;  // bytes; 0: unbounded
    int64_t max_file = kDefaultMaxFile;
    std::map<std::string, std::string> opts;  // as given, for inspect

    static bool is_field(const std::string& key);  // log_driver, log_opts
    // The request's "log_driver" (a string) and "log_opts" (an object of
    // strings, or a list of KEY=VALUE as the CLI passes --log-opt).
    static Result<LogOptions> from_json(const nlohmann::json& body);
    // The request's fields, plus "log_max_size" and "log_max_file" for the daemon.
    void to_json(nlohmann::json& j) const;
};

}  // namespace ctr::services
