// container-oci's errors as runc reports them: one line on stderr, and with
// --log FILE a line in that file, as logrus text ("time=... level=error
// msg=\"...\"") or, with --log-format json, {"level","msg","time"}: the
// form engines (containerd's shim, podman's conmon) read back after a
// failed call.
#pragma once

#include <string>

namespace ctr::oci {

struct LogTarget {
    std::string file;            // "" : stderr only
    std::string format = "text";  // "text" or "json"
    bool debug = false;
};

void set_log_target(LogTarget target);
const LogTarget& log_target();

// Reports `message` at level "error" (or "warning", "debug"); returns 1,
// runc's exit status for every failure.
int log_error(const std::string& message);
void log_line(const char* level, const std::string& message);

// What the libraries and plugins log (spdlog: a plugin's warnings, the
// host's debug lines) goes the way of log_line: to --log when it is given,
// as runc's own warnings do. Never bare to stderr then: an engine's stderr
// for container-oci is often the container's.
void route_library_logs();

}  // namespace ctr::oci
