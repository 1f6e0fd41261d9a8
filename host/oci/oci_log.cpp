#include "oci/oci_log.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <memory>
#include <mutex>
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
const LogTarget& log_target() { return g_target; }

void log_line(const char* level, const std::string& message) {
    const bool debug = std::string(level) == "debug";
    if (debug && !g_target.debug) return;
    // runc: without --log, the formatted line goes to stderr; with it, the
    // line goes to the file and the bare message to stderr.
    if (g_target.file.empty()) {
        std::fprintf(stderr, "%s\n", formatted(level, message, g_target.format).c_str());
        return;
    }
    if (std::string(level) == "error") std::fprintf(stderr, "%s\n", message.c_str());
    std::string line = formatted(level, message, g_target.format) + "\n";
    // Appended whole by one write: engines tail this file while we run.
    int fd = ::open(g_target.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    [[maybe_unused]] auto n = ::write(fd, line.data(), line.size());
    ::close(fd);
}

namespace {

class OciSink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        const char* level = msg.level >= spdlog::level::err ? "error" : msg.level == spdlog::level::warn ? "warning" : "debug";
        log_line(level, std::string(msg.payload.data(), msg.payload.size()));
    }
    void flush_() override {}
};

}  // namespace

void route_library_logs() {
    auto logger = std::make_shared<spdlog::logger>("container-oci", std::make_shared<OciSink>());
    logger->set_level(spdlog::level::debug);  // log_line drops debug lines unless --debug
    spdlog::set_default_logger(logger);
}

int log_error(const std::string& message) {
    log_line("error", message);
    return 1;
}

}  // namespace ctr::oci
