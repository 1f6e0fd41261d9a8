#include "oci/oci_log.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

namespace ctr::oci {

namespace {

LogTarget g_target;

// RFC 3339 in seconds, UTC, as runc's logrus writes it.
std::string now_rfc3339() {
    auto secs = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string formatted(const char* level, const std::string& message, const std::string& format) {
    return format == "json" ? nlohmann::json{{"level", level}, {"msg", message}, {"time", now_rfc3339()}}.dump()
                            : "time=\"" + now_rfc3339() + "\" level=" + level + " msg=" + nlohmann::json(message).dump();
}

}  // namespace

void set_log_target(LogTarget target) { g_target = std::move(target); }

void log_line(const char* level, const std::string& message) {
    const bool debug = std::string(level) == "debug";
    if (debug && !g_target.debug) return;
    // runc: without --log, the formatted line goes to stderr; with it, the
    // line goes to the file and the bare message to stderr.
    if (g_target.file.empty()) {
        std::fprintf(stderr, "%s\n", formatted(level, message, g_target.format).c_str());
        return;
    }
    if (!debug) std::fprintf(stderr, "%s\n", message.c_str());
    std::string line = formatted(level, message, g_target.format) + "\n";
    // Appended whole by one write: engines tail this file while we run.
    int fd = ::open(g_target.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    [[maybe_unused]] auto n = ::write(fd, line.data(), line.size());
    ::close(fd);
}

int log_error(const std::string& message) {
    log_line("error", message);
    return 1;
}

}  // namespace ctr::oci
