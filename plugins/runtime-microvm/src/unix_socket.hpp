// Unix sockets named inside a directory. A VM's directory sits deep under
// the state root, past the 108 bytes a socket address holds, so the name
// goes through /proc/self/fd/N/NAME: short whatever the directory.
#pragma once

#include <ctr/sys/unique_fd.hpp>

#include <ctr/sdk/result.hpp>

#include <filesystem>
#include <string>

namespace microvm {

ctr::Result<ctr::sys::UniqueFd> listen_in(const std::filesystem::path& dir, const std::string& name);
ctr::Result<ctr::sys::UniqueFd> connect_in(const std::filesystem::path& dir, const std::string& name);
// accept() with a time limit; an error on timeout.
ctr::Result<ctr::sys::UniqueFd> accept_within(int listener, int timeout_ms);

}  // namespace microvm
