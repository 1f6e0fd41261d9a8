// pause, unpause and update of a container: runtime operations of ABI 1.2,
// carried out by a shim in --call mode (the runtime plugin lives in shims).
// A "paused" file in the container's folder records a pause; the record's
// config and the OCI spec keep an update for the next start.
#include "apiserver/containers.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>

#include <spdlog/spdlog.h>

#include <regex>

namespace ctr::apiserver {

using nlohmann::json;
namespace fs = std::filesystem;

Result<json> Containers::runtime_call(const store::ContainerRecord& c, const std::string& op, const json& request) {
    std::vector<std::string> args = shim_argv(c);
    args.resize(args.size() - 2);  // not --state-dir: no detached container of its own
    args.insert(args.end(), {"--call", op, "--request", request.dump()});
    sys::RunOptions o;
    o.timeout_ms = 30000;
    auto r = CTR_TRY(sys::run_capture(args, o));
    json answer = json::parse(r.out, nullptr, false);
    if (!answer.is_object()) return make_error(CTR_E_INTERNAL, op + " of " + c.name + ": the shim said " + r.out + r.err);
    if (!answer.value("ok", false))
        return Error{answer.value("status", static_cast<int32_t>(CTR_E_INTERNAL)), answer.value("message", op + " failed"),
                     answer.value("detail", 0)};
    return answer.value("result", json::object());
}

void Containers::thaw_if_paused(store::ContainerRecord& c) {
    if (!c.paused) return;
    if (auto r = runtime_call(c, "resume"); !r) spdlog::warn("container {}: resume after a signal: {}", c.name, r.error().message);
    std::error_code ec;
    fs::remove(dir_of(c.id) / "paused", ec);
    c.paused = false;
}

Status Containers::pause(const std::string& key) {
    auto c = CTR_TRY(get(key));
    CTR_TRY_STATUS(store::check_action(c.name, c.state, store::ContainerAction::pause));
    if (c.paused) return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is paused already");
    auto r = runtime_call(c, "pause");
    if (!r) return r.error().wrap("pause " + c.name);
    CTR_TRY_STATUS(sys::write_file_atomic(dir_of(c.id) / "paused", "", 0600));
    note(c, "pause");
    return ok();
}

Status Containers::unpause(const std::string& key) {
    auto c = CTR_TRY(get(key));
    if (!c.paused) return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is not paused");
    auto r = runtime_call(c, "resume");
    if (!r) return r.error().wrap("unpause " + c.name);
    std::error_code ec;
    fs::remove(dir_of(c.id) / "paused", ec);
    note(c, "unpause");
    return ok();
}

namespace {

// The changes, checked, as the run request's fields they replace.
Result<json> checked_changes(const json& changes, const json& config) {
    if (!changes.is_object() || changes.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "update: nothing to change");
    static const char* const known[] = {"memory", "memory_swap", "memory_reservation", "cpus", "cpu_shares", "cpuset_cpus",
                                        "cpuset_mems", "pids_limit", "restart"};
    for (auto it = changes.begin(); it != changes.end(); ++it)
        if (std::none_of(std::begin(known), std::end(known), [&](const char* k) { return it.key() == k; }))
            return make_error(CTR_E_INVALID_ARGUMENT, "update: unknown field \"" + it.key() + "\"");
    json merged = config;
    for (auto it = changes.begin(); it != changes.end(); ++it) merged[it.key()] = it.value();
    const int64_t memory = merged.value("memory", int64_t{0});
    if (memory != 0 && memory < 6 * 1024 * 1024)
        return make_error(CTR_E_INVALID_ARGUMENT, "--memory: minimum is 6 MiB, not " + std::to_string(memory) + " bytes");
    if (merged.value("cpus", 0.0) < 0) return make_error(CTR_E_INVALID_ARGUMENT, "--cpus: must not be negative");
    if (merged.value("pids_limit", int64_t{0}) < -1) return make_error(CTR_E_INVALID_ARGUMENT, "--pids-limit must be -1, 0 or a positive number");
    static const std::regex restart_re("no|always|unless-stopped|on-failure(:[0-9]{1,6})?");
    if (!std::regex_match(merged.value("restart", std::string("no")), restart_re))
        return make_error(CTR_E_INVALID_ARGUMENT, "--restart \"" + merged.value("restart", std::string()) +
                                                      "\": want no, on-failure[:N], always or unless-stopped");
    if (merged.value("restart", std::string("no")) != "no" && merged.value("rm", false))
        return make_error(CTR_E_INVALID_ARGUMENT, "--restart cannot be set on a container made with --rm");
    CTR_TRY(services::TuningOptions::from_json(merged, memory, merged.value("hostname", std::string())));
    return merged;
}

// linux.resources of the spec for the run request's fields.
json resources_of(const json& r) {
    json res = json::object();
    if (r.value("memory", int64_t{0}) > 0) res["memory"]["limit"] = r["memory"];
    if (r.value("memory_reservation", int64_t{0}) > 0) res["memory"]["reservation"] = r["memory_reservation"];
    if (r.value("memory_swap", int64_t{0}) != 0) res["memory"]["swap"] = r["memory_swap"];
    if (r.value("cpus", 0.0) > 0) res["cpu"] = {{"quota", static_cast<int64_t>(r["cpus"].get<double>() * 100000)}, {"period", 100000}};
    if (r.value("cpu_shares", int64_t{0}) > 0) res["cpu"]["shares"] = r["cpu_shares"];
    if (!r.value("cpuset_cpus", std::string()).empty()) res["cpu"]["cpus"] = r["cpuset_cpus"];
    if (!r.value("cpuset_mems", std::string()).empty()) res["cpu"]["mems"] = r["cpuset_mems"];
    if (r.value("pids_limit", int64_t{0}) != 0) res["pids"] = {{"limit", r["pids_limit"]}};
    return res;
}

}  // namespace

Result<store::ContainerRecord> Containers::update(const std::string& key, const json& changes) {
    auto c = CTR_TRY(get(key));
    json merged = CTR_TRY(checked_changes(changes, c.config));
    json limits = resources_of(merged);
    const bool limits_changed = changes.size() > (changes.contains("restart") ? 1u : 0u);
    if (limits_changed && c.state == store::ContainerState::running) {
        auto r = runtime_call(c, "update", {{"resources", limits}});
        if (!r) return r.error().wrap("update " + c.name);
    }
    // Kept for the next start: the spec's resources, then the record.
    const fs::path spec_file = dir_of(c.id) / "config.json";
    json spec = json::parse(CTR_TRY(sys::read_file(spec_file)), nullptr, false);
    if (!spec.is_object()) return make_error(CTR_E_INTERNAL, "config.json of " + c.name + " is not json");
    json& res = spec["linux"]["resources"];
    for (auto it = limits.begin(); it != limits.end(); ++it) res[it.key()] = it.value();
    CTR_TRY_STATUS(sys::write_file_atomic(spec_file, spec.dump(2)));
    c.config = merged;
    {
        std::lock_guard<std::mutex> lock(d_.store_mu);
        CTR_TRY_STATUS(d_.store->update_container(c));
    }
    note(c, "update");
    return c;
}

}  // namespace ctr::apiserver
