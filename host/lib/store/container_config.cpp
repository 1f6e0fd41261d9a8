#include "store/container_config.hpp"

#include <algorithm>

namespace ctr::store {

namespace {

using nlohmann::json;

template <typename T>
T field(const json& j, const char* key, T fallback) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    try {
        return it->get<T>();
    } catch (const json::exception&) {  // a wrong type reads as the default
        return fallback;
    }
}

json array_field(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_array() ? *it : json::array();
}

}  // namespace

ContainerConfig ContainerConfig::of(const json& stored) {
    ContainerConfig c;
    if (!stored.is_object()) return c;
    c.tty = field(stored, "tty", false);
    c.interactive = field(stored, "interactive", false);
    c.remove = field(stored, "rm", false);
    c.restart = field(stored, "restart", std::string("no"));
    c.stop_timeout = field(stored, "stop_timeout", int64_t{-1});
    c.stop_signal = field(stored, "stop_signal", std::string());
    c.healthcheck = stored.contains("healthcheck") && stored["healthcheck"].is_object() ? stored["healthcheck"] : json();
    c.networks = array_field(stored, "networks");
    c.network_attachments = array_field(stored, "network_attachments");
    c.ip = field(stored, "ip", std::string());
    c.mac_address = field(stored, "mac_address", std::string());
    c.writable_dir = field(stored, "writable_dir", std::string());
    for (const auto& d : array_field(stored, "lower_dirs"))
        if (d.is_string()) c.lower_dirs.push_back(d.get<std::string>());
    c.image_digest = field(stored, "image_digest", std::string());
    c.pid_mode = field(stored, "pid", std::string());
    c.ipc_mode = field(stored, "ipc", std::string());
    c.log_max_size = std::max<int64_t>(0, field(stored, "log_max_size", kDefaultLogMaxSize));
    c.log_max_file = std::max<int64_t>(1, field(stored, "log_max_file", kDefaultLogMaxFile));
    return c;
}

json migrate_config(json stored) {
    if (!stored.is_object()) stored = json::object();
    int schema = field(stored, "schema", 1);
    if (schema >= ContainerConfig::kSchema) return stored;
    // 1 -> 2: phase one wrote no schema, and no network_attachments for a
    // container made without a network.
    if (!stored.contains("network_attachments")) stored["network_attachments"] = json::array();
    if (!stored.contains("restart")) stored["restart"] = "no";
    if (!stored.contains("stop_timeout")) stored["stop_timeout"] = -1;
    stored["schema"] = ContainerConfig::kSchema;
    return stored;
}

}  // namespace ctr::store
