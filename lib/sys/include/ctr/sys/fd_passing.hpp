// Passing a file descriptor over a unix socket (SCM_RIGHTS): the console
// socket of OCI runtimes, and the plugin host's connections.
#pragma once

#include <ctr/sys/unique_fd.hpp>

namespace ctr::sys {

// Sends `fd` with one byte of data. False when the peer is gone (no SIGPIPE).
bool send_fd(int sock, int fd, char byte = 'F');

// The descriptor carried by the next message, close-on-exec. Invalid on
// end of file, on an error, or when the message carried none (errno is
// EBADMSG then).
UniqueFd recv_fd(int sock);

}  // namespace ctr::sys
