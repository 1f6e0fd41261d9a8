// Writing all of a buffer to an fd, through short writes and EINTR.
#pragma once

#include <string_view>

namespace ctr::sys {

// To a socket, with MSG_NOSIGNAL: a peer that left gives false, never SIGPIPE.
bool send_all(int fd, std::string_view data);
// To any fd (a pipe, a file) with write(2).
bool write_all(int fd, std::string_view data);

}  // namespace ctr::sys
