// Namespaces a container shares with another (--pid/--ipc container:NAME,
// as docker's): the other's process may change between starts, so the
// spec's namespace paths are written at each start, from the other's pid.
#include "apiserver/containers.hpp"

#include <ctr/sys/files.hpp>

namespace ctr::apiserver {

using nlohmann::json;

Status Containers::check_joins(const services::RunRequest& req) {
    for (const auto& [flag, mode] : {std::pair{"--pid", req.tuning.pid_mode}, std::pair{"--ipc", req.tuning.ipc_mode}}) {
        const std::string other = services::joined_container(mode);
        if (other.empty()) continue;
        if (!req.name.empty() && other == req.name) return make_error(CTR_E_INVALID_ARGUMENT, std::string(flag) + " " + mode + ": a container cannot join itself");
        auto c = get(other);
        if (!c) return c.error().wrap(std::string(flag) + " " + mode);
    }
    return ok();
}

Status Containers::join_namespaces(const store::ContainerRecord& c) {
    const auto settings = c.settings();
    json spec;
    for (const auto& [type, mode] : {std::pair{"pid", settings.pid_mode}, std::pair{"ipc", settings.ipc_mode}}) {
        const std::string other = services::joined_container(mode);
        if (other.empty()) continue;
        auto target = get(other);
        if (!target) return target.error().wrap(std::string("--") + type + " " + mode);
        if (target->state != store::ContainerState::running || !target->pid)
            return make_error(CTR_E_FAILED_PRECONDITION, std::string("--") + type + " " + mode + ": " + other + " is not running");
        if (spec.is_null()) {
            spec = json::parse(CTR_TRY(sys::read_file(dir_of(c.id) / "config.json")), nullptr, false);
            if (!spec.is_object()) return make_error(CTR_E_INTERNAL, "config.json of " + c.name + " is not json");
        }
        services::join_namespace(spec, type, "/proc/" + std::to_string(*target->pid) + "/ns/" + type);
    }
    if (spec.is_null()) return ok();
    return sys::write_file_atomic(dir_of(c.id) / "config.json", spec.dump(2));
}

}  // namespace ctr::apiserver
