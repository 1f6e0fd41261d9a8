// Exit statuses and the host's error detail codes: one owner for the
// contract that the CLI, the daemon and the shim share. Docker's numbers:
// 125 the engine failed, 126 the command could not be invoked, 127 it was
// not found.
#pragma once

#include <ctr/plugin.h>
#include <ctr/sdk/result.hpp>

#include <cstdint>

namespace ctr::api {

inline constexpr int kExitEngine = 125;        // the daemon or the CLI failed, or bad usage
inline constexpr int kExitCannotInvoke = 126;  // the command could not be invoked
inline constexpr int kExitNotFound = 127;      // the command was not found

// Detail codes the host puts on its errors (ctr_error.detail_code): below
// CTR_DETAIL_PLUGIN_BASE, which the ABI leaves to plugins, so that a
// plugin's own detail passes through the host unmistaken.
inline constexpr int32_t kDetailExecNotFound = 1;  // the container's program was not found
inline constexpr int32_t kDetailExecDenied = 2;    // it was found but could not run
static_assert(kDetailExecDenied < CTR_DETAIL_PLUGIN_BASE, "host detail codes stay below the plugins' range");

// The exit status of a container whose process could not run, from the
// runtime's error status: as Docker reports it.
inline int process_exit_code(int32_t status) {
    return status == CTR_E_NOT_FOUND ? kExitNotFound : status == CTR_E_PERMISSION_DENIED ? kExitCannotInvoke : kExitEngine;
}

// The host's detail code for such an error (0 when it is not one).
inline int32_t process_detail(int32_t status) {
    return status == CTR_E_NOT_FOUND ? kDetailExecNotFound : status == CTR_E_PERMISSION_DENIED ? kDetailExecDenied : 0;
}

// The CLI's exit status for an error from the daemon.
inline int cli_exit_code(const Error& e) {
    if (e.detail_code == kDetailExecNotFound) return kExitNotFound;
    if (e.detail_code == kDetailExecDenied) return kExitCannotInvoke;
    return kExitEngine;
}

}  // namespace ctr::api
