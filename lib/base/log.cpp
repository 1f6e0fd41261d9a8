#include <ctr/base/log.hpp>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <unistd.h>

namespace ctr::log {

namespace {
bool want_color() {
    const char* no_color = std::getenv("NO_COLOR");
    if (no_color && *no_color) return false;
    const char* term = std::getenv("TERM");
    if (term && std::string(term) == "dumb") return false;
    return isatty(STDERR_FILENO) == 1;
}
}  // namespace

void init(const std::string& process_name, bool debug) {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
        want_color() ? spdlog::color_mode::automatic : spdlog::color_mode::never);
    auto logger = std::make_shared<spdlog::logger>(process_name, sink);
    logger->set_pattern("%n: %^%l%$: %v");
    logger->set_level(debug ? spdlog::level::debug : spdlog::level::warn);
    spdlog::set_default_logger(logger);
}

void add_file(const std::string& file) {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file);
    sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %n %l: %v");
    spdlog::default_logger()->sinks().push_back(sink);
    // Every line reaches the file at once: `system logs` and a crash both need it there.
    spdlog::default_logger()->flush_on(spdlog::level::trace);
}

}  // namespace ctr::log
