// A container's life as a typed state, and the one place that says which
// operation each state allows. The store keeps the state's name (to_string);
// the API shows it the same way.
//
//   creating -> created -> running <-> stopped
//   created, stopped -> removed; running -> removed only with force
//
// "creating" is a create a crash may have cut short; the daemon rolls it
// back when it starts (reconcile).
#pragma once

#include <ctr/sdk/result.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace ctr::store {

enum class ContainerState { creating, created, running, stopped };

const char* to_string(ContainerState s);
std::optional<ContainerState> parse_container_state(std::string_view name);

// What a client asks of a container.
enum class ContainerAction { start, stop, kill, remove, pause, exec, attach };

const char* to_string(ContainerAction a);

// Whether `action` may go ahead on a container in state `s` (`force`: rm -f
// of a running one). When not: CTR_E_FAILED_PRECONDITION with a message that
// names the container, its state and what was asked, e.g. `container web is
// not running (stopped): cannot exec`. `stop` of a container that is not
// running is allowed: it is idempotent, as docker's is; `kill` is not.
Status check_action(const std::string& name, ContainerState s, ContainerAction action, bool force = false);

}  // namespace ctr::store
