// Logging setup for every process of the host. spdlog, synchronous sinks only:
// the daemon and the shim spawn children, and an async logger owns a thread.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace ctr::log {

// Logs to stderr at info (or debug), honouring NO_COLOR and non-TTY stderr.
void init(const std::string& process_name, bool debug);

// Appends to `file` as well (the daemon's log, shown by `system logs`).
void add_file(const std::string& file);

}  // namespace ctr::log
