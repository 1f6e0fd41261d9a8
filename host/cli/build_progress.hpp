// A build's progress as the daemon streams it ({"step","of","instruction"},
// {"cached"}, {"done","seconds"}, {"output"}, {"tick"}), shown two ways:
// plain lines (`#N [N/M] ...`, `#N CACHED`, `#N DONE 0.3s`, RUN's output as
// it comes), or on a terminal a live view as BuildKit draws it: each step
// done stays as one line (` => [N/M] INSTRUCTION  0.3s`, ` => CACHED ...`),
// and beneath them the running step with its timer and the last lines of
// its output, redrawn in place. A failed step keeps its last output lines.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <deque>
#include <string>

namespace ctr::cli {

class BuildProgress {
public:
    // `mode`: auto (the live view when `out` is a terminal that is not
    // TERM=dumb), tty (the live view regardless) or plain; `quiet`: nothing.
    // Colour only in the live view, and never with NO_COLOR set.
    BuildProgress(const std::string& mode, bool quiet, std::FILE* out = stderr);
    void event(const nlohmann::json& e);
    // The build ended: the running step is left on screen as failed (with
    // its last output) when `failed`, else as it stands.
    void finish(bool failed);
    bool live() const { return live_; }

private:
    using Clock = std::chrono::steady_clock;
    void commit(const std::string& line, const char* color);
    void redraw();
    void clear();
    std::string fit(const std::string& s, size_t reserve = 0) const;

    std::FILE* out_;
    bool quiet_ = false, live_ = false, color_ = false;
    size_t width_ = 80;
    Clock::time_point started_ = Clock::now();
    // The running step.
    int step_ = 0, of_ = 0;
    std::string instruction_;
    bool running_ = false;
    Clock::time_point step_started_;
    std::string partial_;            // output after its last newline
    std::deque<std::string> tail_;   // its last lines of output
    size_t drawn_ = 0;               // lines of the live area on screen
};

}  // namespace ctr::cli
