// The process that holds a container for a plugin whose instance must live
// as long as its containers (manifest `holds_containers = true`: a VM's
// channel, the relay of its stdio, its exec relay live in the plugin's
// memory). An engine runs a fresh container-oci per call, so container-oci
// `create` leaves this process behind: it loads the plugin, creates the
// container, and serves the later calls (start, kill, state, exec, wait,
// pause, ...) that container-oci makes over a unix socket under --root.
//
// To the engine it is the container's process, as runc's init is: its pid
// goes to --pid-file and `state`, the signals it receives go on to the
// container, and it ends as the container ends, with the same exit status
// (or death by the same signal), after recording that status and having the
// plugin take the container down. A delete ends it too, killed as runc's
// init is.
#pragma once

#include <ctr/plugin.h>
#include <ctr/sdk/result.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace ctr::oci {

struct MonitorPaths {
    std::filesystem::path dir;   // where the sockets are
    std::string id;              // the socket's name in it
    std::filesystem::path exit;  // {"exit_code","signal"?} once the container has ended
};

// Creates the container (`create_req`), reports {"ok":true,"pid":P} or
// {"ok":false,"status","message"} on `sync_fd`, then serves until the
// container ends or is deleted. Returns only when create failed (1).
int run_monitor(const ctr_runtime_v1& rt, ctr_plugin* inst, const MonitorPaths& paths, const nlohmann::json& create_req, int sync_fd);

// One call to the monitor of `paths.id`: the plugin's result or error.
// CTR_E_UNAVAILABLE when no monitor answers (the container has ended).
Result<nlohmann::json> call_monitor(const MonitorPaths& paths, const std::string& op, const nlohmann::json& req);

}  // namespace ctr::oci
