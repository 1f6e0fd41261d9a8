// The receiving end of an OCI runtime's --console-socket: the pty master it
// sends (SCM_RIGHTS) once it has made the container's terminal.
#pragma once

#include <ctr/sdk/result.hpp>
#include <ctr/sys/unique_fd.hpp>

namespace ctr::sys {

// Takes the connection queued on `listener` (waiting up to `timeout_ms`)
// and the one fd it carries, close-on-exec.
Result<UniqueFd> receive_console(int listener, int timeout_ms);

}  // namespace ctr::sys
