// `pause`, `unpause` and `update`: a running container frozen and thawed,
// its limits and restart policy changed in place (runtime ABI 1.2).
#include "cli/app.hpp"
#include "cli/output.hpp"

#include <ctr/base/strings.hpp>
#include <ctr/base/units.hpp>

#include <cstdio>
#include <memory>

namespace ctr::cli {

using nlohmann::json;

namespace {

struct UpdateOptions {
    std::vector<std::string> containers;
    std::string memory, memory_swap, memory_reservation, cpuset_cpus, cpuset_mems, restart;
    double cpus = -1;
    int64_t cpu_shares = 0, pids_limit = 0;
};

Result<json> changes_of(const UpdateOptions& o) {
    json c = json::object();
    if (!o.memory.empty()) c["memory"] = CTR_TRY(parse_size(o.memory, "--memory"));
    if (o.memory_swap == "-1") c["memory_swap"] = -1;
    else if (!o.memory_swap.empty()) c["memory_swap"] = CTR_TRY(parse_size(o.memory_swap, "--memory-swap"));
    if (!o.memory_reservation.empty()) c["memory_reservation"] = CTR_TRY(parse_size(o.memory_reservation, "--memory-reservation"));
    if (o.cpus >= 0) c["cpus"] = o.cpus;
    if (o.cpu_shares != 0) c["cpu_shares"] = o.cpu_shares;
    if (!o.cpuset_cpus.empty()) c["cpuset_cpus"] = o.cpuset_cpus;
    if (!o.cpuset_mems.empty()) c["cpuset_mems"] = o.cpuset_mems;
    if (o.pids_limit != 0) c["pids_limit"] = o.pids_limit;
    if (!o.restart.empty()) c["restart"] = o.restart;
    if (c.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "update: give at least one of --memory, --cpus, --pids-limit, --restart, ...");
    return c;
}

// POST /v1/containers/ID/ACTION for each; their names as they succeed.
int each(const Globals& g, const std::vector<std::string>& ids, const std::string& action, const json& body = json::object()) {
    auto client = daemon_client(g);
    if (!client) return fail(client.error());
    int rc = 0;
    for (const auto& id : ids) {
        auto r = client->call("POST", "/v1/containers/" + url_escape(id) + "/" + action, body);
        if (!r) rc = fail(r.error());
        else std::printf("%s\n", id.c_str());
    }
    return rc;
}

}  // namespace

void add_update_commands(CLI::App& app, Globals& g) {
    for (const char* action : {"pause", "unpause"}) {
        auto* cmd = app.add_subcommand(action, std::string(action) == "pause" ? "freeze every process of running containers"
                                                                              : "thaw paused containers");
        auto ids = std::make_shared<std::vector<std::string>>();
        cmd->add_option("container", *ids, "containers")->required();
        on_run(cmd, g, [&g, ids, action] { return each(g, *ids, action); });
    }

    auto* update = app.add_subcommand("update", "change containers' limits and restart policy (a running one's at once)");
    auto o = std::make_shared<UpdateOptions>();
    update->add_option("container", o->containers, "containers")->required();
    update->add_option("-m,--memory", o->memory, "memory limit, e.g. 512m");
    update->add_option("--memory-swap", o->memory_swap, "memory plus swap (-1: unlimited swap)");
    update->add_option("--memory-reservation", o->memory_reservation, "a soft memory limit");
    update->add_option("-c,--cpus", o->cpus, "CPU limit, e.g. 1.5");
    update->add_option("--cpu-shares", o->cpu_shares, "relative CPU weight");
    update->add_option("--cpuset-cpus", o->cpuset_cpus, "CPUs it may run on");
    update->add_option("--cpuset-mems", o->cpuset_mems, "memory nodes it may use");
    update->add_option("--pids-limit", o->pids_limit, "most processes at once (-1: unlimited)");
    update->add_option("--restart", o->restart, "no, on-failure[:N], always or unless-stopped");
    on_run(update, g, [&g, o] {
        auto changes = changes_of(*o);
        if (!changes) return fail(changes.error());
        return each(g, o->containers, "update", *changes);
    });
}

}  // namespace ctr::cli
