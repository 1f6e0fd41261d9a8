// What a container shares with another, as docker's flags say: namespaces
// (--pid/--ipc/--network container:NAME) and volumes (--volumes-from). The other's
// process may change between starts, so the spec's namespace paths are
// written at each start, from the other's pid; volumes are copied at create.
#include "apiserver/containers.hpp"

#include <ctr/sys/files.hpp>

#include <algorithm>
#include <map>

namespace ctr::apiserver {

namespace fs = std::filesystem;
using nlohmann::json;

Status Containers::check_joins(const services::RunRequest& req) {
    const std::string network = req.network.mode == services::NetworkOptions::Mode::container ? "container:" + req.network.container : "";
    for (const auto& [flag, mode] :
         {std::pair{"--pid", req.tuning.pid_mode}, std::pair{"--ipc", req.tuning.ipc_mode}, std::pair{"--network", network}}) {
        const std::string other = services::joined_container(mode);
        if (other.empty()) continue;
        if (!req.name.empty() && other == req.name) return make_error(CTR_E_INVALID_ARGUMENT, std::string(flag) + " " + mode + ": a container cannot join itself");
        auto c = get(other);
        if (!c) return c.error().wrap(std::string(flag) + " " + mode);
    }
    return ok();
}

Status Containers::add_volumes_from(services::RunRequest& req) {
    const fs::path volumes_dir = d_.paths.lib_dir() / "volumes";
    for (const auto& from : req.volumes_from) {
        const auto colon = from.rfind(':');
        const std::string name = colon == std::string::npos ? from : from.substr(0, colon);
        const std::string mode = colon == std::string::npos ? "" : from.substr(colon + 1);
        auto other = get(name);
        if (!other) return other.error().wrap("--volumes-from " + from);
        // Where each of its mounts comes from: its spec (an anonymous
        // volume's name is only there).
        auto spec_text = sys::read_file(dir_of(other->id) / "config.json");
        json spec = json::parse(spec_text ? *spec_text : std::string("{}"), nullptr, false);
        std::map<std::string, std::string> source_at;
        if (spec.is_object())
            for (const auto& m : spec.value("mounts", json::array())) source_at[m.value("destination", "")] = m.value("source", "");
        for (const auto& text : other->config.value("volumes", json::array())) {
            if (!text.is_string()) continue;
            auto v = services::VolumeSpec::parse(text.get<std::string>());
            if (!v) continue;
            if (std::any_of(req.volumes.begin(), req.volumes.end(), [&](const auto& mine) { return mine.destination == v->destination; }))
                continue;
            if (v->kind == services::VolumeSpec::Kind::anonymous) {
                const fs::path rel = fs::path(source_at[v->destination]).lexically_relative(volumes_dir);
                if (rel.empty() || rel.begin()->string() == "..")
                    return make_error(CTR_E_INTERNAL, "--volumes-from " + from + ": the volume at " + v->destination + " is not found");
                v->kind = services::VolumeSpec::Kind::named;
                v->source = rel.begin()->string();
            }
            if (!mode.empty()) v->read_only = mode == "ro";
            req.volumes.push_back(*v);
        }
    }
    return ok();
}

Status Containers::join_namespaces(const store::ContainerRecord& c) {
    const auto settings = c.settings();
    const std::string network = settings.networks.size() == 1 && settings.networks[0].is_string() ? settings.networks[0].get<std::string>() : "";
    json spec;
    struct Join {
        const char* flag;  // --pid, ...
        const char* type;  // as the OCI spec names the namespace
        const char* proc;  // as /proc/PID/ns names it
        std::string mode;
    };
    for (const auto& j : {Join{"pid", "pid", "pid", settings.pid_mode}, Join{"ipc", "ipc", "ipc", settings.ipc_mode},
                          Join{"network", "network", "net", network}}) {
        const std::string other = services::joined_container(j.mode);
        if (other.empty()) continue;
        auto target = get(other);
        if (!target) return target.error().wrap(std::string("--") + j.flag + " " + j.mode);
        if (target->state != store::ContainerState::running || !target->pid)
            return make_error(CTR_E_FAILED_PRECONDITION, std::string("--") + j.flag + " " + j.mode + ": " + other + " is not running");
        if (spec.is_null()) {
            spec = json::parse(CTR_TRY(sys::read_file(dir_of(c.id) / "config.json")), nullptr, false);
            if (!spec.is_object()) return make_error(CTR_E_INTERNAL, "config.json of " + c.name + " is not json");
        }
        services::join_namespace(spec, j.type, "/proc/" + std::to_string(*target->pid) + "/ns/" + j.proc);
    }
    if (spec.is_null()) return ok();
    return sys::write_file_atomic(dir_of(c.id) / "config.json", spec.dump(2));
}

}  // namespace ctr::apiserver
