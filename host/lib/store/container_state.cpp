#include "store/container_state.hpp"

namespace ctr::store {

const char* to_string(ContainerState s) {
    switch (s) {
    case ContainerState::creating: return "creating";
    case ContainerState::created: return "created";
    case ContainerState::running: return "running";
    case ContainerState::stopped: return "stopped";
    }
    return "unknown";
}

std::optional<ContainerState> parse_container_state(std::string_view name) {
    for (auto s : {ContainerState::creating, ContainerState::created, ContainerState::running, ContainerState::stopped})
        if (name == to_string(s)) return s;
    return std::nullopt;
}

const char* to_string(ContainerAction a) {
    switch (a) {
    case ContainerAction::start: return "start";
    case ContainerAction::stop: return "stop";
    case ContainerAction::kill: return "kill";
    case ContainerAction::remove: return "remove";
    case ContainerAction::pause: return "pause";
    case ContainerAction::exec: return "exec";
    case ContainerAction::attach: return "attach";
    }
    return "unknown";
}

Status check_action(const std::string& name, ContainerState s, ContainerAction action, bool force) {
    auto refuse = [&](const std::string& why) {
        return make_error(CTR_E_FAILED_PRECONDITION, "container " + name + " is " + why + ": cannot " + to_string(action));
    };
    if (s == ContainerState::creating) return refuse("still being created");
    switch (action) {
    case ContainerAction::start:
        if (s == ContainerState::running) return make_error(CTR_E_FAILED_PRECONDITION, "container " + name + " is already running");
        return ok();
    case ContainerAction::stop:
        return ok();  // idempotent, as docker's: a stopped container stays stopped
    case ContainerAction::remove:
        if (s == ContainerState::running && !force) return refuse("running (stop it first, or use --force)");
        return ok();
    case ContainerAction::kill:
    case ContainerAction::pause:
    case ContainerAction::exec:
    case ContainerAction::attach:
        if (s != ContainerState::running) return refuse("not running (" + std::string(to_string(s)) + ")");
        return ok();
    }
    return refuse("in an unknown state");
}

}  // namespace ctr::store
