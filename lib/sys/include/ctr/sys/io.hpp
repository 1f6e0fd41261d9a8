// Writing all of a buffer to an fd, through short writes and EINTR.
#pragma once

#include <string_view>

namespace ctr::sys {

// To a socket, with MSG_NOSIGNAL: a peer that left gives false, never SIGPIPE.
bool send_all(int fd, std::string_view data);
// To any fd (a pipe, a file) with write(2).
bool write_all(int fd, std::string_view data);
// To a pipe whose reader may be gone, in a process that keeps SIGPIPE's
// default (a shim: its children inherit its dispositions): EPIPE gives
// false, and the SIGPIPE that came with it is taken, in this thread only.
bool write_all_nosignal(int fd, std::string_view data);

}  // namespace ctr::sys
