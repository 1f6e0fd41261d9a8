#include "cli/build_progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

namespace ctr::cli {

namespace {

constexpr size_t kLiveTail = 6;     // output lines under the running step
constexpr size_t kFailedTail = 20;  // kept on screen when it fails

constexpr const char* kBlue = "\033[34m";
constexpr const char* kCyan = "\033[36m";
constexpr const char* kRed = "\033[31m";
constexpr const char* kDim = "\033[2m";

std::string seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", s);
    return buf;
}

// Control characters other than tab would move the cursor under the view.
std::string printable(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\t') out += "    ";
        else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
    }
    return out;
}

}  // namespace

BuildProgress::BuildProgress(const std::string& mode, bool quiet, std::FILE* out) : out_(out), quiet_(quiet) {
    const bool tty = ::isatty(::fileno(out)) == 1;
    const char* term = std::getenv("TERM");
    const bool dumb = term && std::string(term) == "dumb";
    live_ = !quiet && (mode == "tty" || (mode == "auto" && tty && !dumb));
    const char* no_color = std::getenv("NO_COLOR");
    color_ = live_ && tty && !(no_color && *no_color);
    struct winsize ws {};
    if (tty && ::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) width_ = ws.ws_col;
}

// One line that fits the terminal: a wrapped line would throw off the
// count of lines to go back over at the next redraw.
std::string BuildProgress::fit(const std::string& s, size_t reserve) const {
    std::string p = printable(s);
    size_t room = width_ > reserve + 1 ? width_ - reserve - 1 : 1;
    if (p.size() > room) p = p.substr(0, room > 3 ? room - 3 : room) + (room > 3 ? "..." : "");
    return p;
}

void BuildProgress::clear() {
    if (drawn_ == 0) return;
    std::fprintf(out_, "\033[%zuA\033[J", drawn_);  // up to the live area's first line, and erase down
    drawn_ = 0;
}

void BuildProgress::commit(const std::string& line, const char* color) {
    clear();
    if (color_) std::fprintf(out_, "%s%s\033[0m\n", color, line.c_str());
    else std::fprintf(out_, "%s\n", line.c_str());
}

void BuildProgress::redraw() {
    clear();
    const double total = std::chrono::duration<double>(Clock::now() - started_).count();
    std::string header = "[+] Building " + seconds(total) + " (" + std::to_string(step_ > 0 ? step_ - (running_ ? 1 : 0) : 0) + "/" +
                         std::to_string(of_) + ")";
    std::fprintf(out_, "%s\n", fit(header).c_str());
    drawn_ = 1;
    if (!running_) {
        std::fflush(out_);
        return;
    }
    const double took = std::chrono::duration<double>(Clock::now() - step_started_).count();
    std::string timer = seconds(took);
    std::string line = fit(" => [" + std::to_string(step_) + "/" + std::to_string(of_) + "] " + instruction_, timer.size() + 1);
    line += std::string(width_ > line.size() + timer.size() + 1 ? width_ - line.size() - timer.size() - 1 : 1, ' ') + timer;
    if (color_) std::fprintf(out_, "%s%s\033[0m\n", kCyan, line.c_str());
    else std::fprintf(out_, "%s\n", line.c_str());
    ++drawn_;
    size_t first = tail_.size() > kLiveTail ? tail_.size() - kLiveTail : 0;
    for (size_t i = first; i < tail_.size(); ++i, ++drawn_) {
        std::string l = fit(" => > " + tail_[i]);
        if (color_) std::fprintf(out_, "%s%s\033[0m\n", kDim, l.c_str());
        else std::fprintf(out_, "%s\n", l.c_str());
    }
    std::fflush(out_);
}

void BuildProgress::event(const nlohmann::json& e) {
    if (quiet_ || !e.is_object()) return;
    if (!live_) {
        if (e.contains("step")) {
            step_ = e.value("step", 0);
            std::fprintf(out_, "#%d [%d/%d] %s\n", step_, step_, e.value("of", 0), e.value("instruction", "").c_str());
        } else if (e.contains("cached")) {
            std::fprintf(out_, "#%d CACHED\n", step_);
        } else if (e.contains("done")) {
            std::fprintf(out_, "#%d DONE %.1fs\n", step_, e.value("seconds", 0.0));
        } else if (e.contains("output")) {
            std::fputs(e["output"].get<std::string>().c_str(), out_);
        }
        std::fflush(out_);
        return;
    }
    const std::string label = "[" + std::to_string(step_) + "/" + std::to_string(of_) + "] " + instruction_;
    if (e.contains("step")) {
        step_ = e.value("step", 0);
        of_ = e.value("of", of_);
        instruction_ = e.value("instruction", "");
        running_ = true;
        step_started_ = Clock::now();
        tail_.clear();
        partial_.clear();
    } else if (e.contains("cached") && running_) {
        running_ = false;
        commit(fit(" => CACHED " + label), kBlue);
    } else if (e.contains("done") && running_) {
        running_ = false;
        std::string timer = seconds(e.value("seconds", 0.0));
        std::string line = fit(" => " + label, timer.size() + 1);
        line += std::string(width_ > line.size() + timer.size() + 1 ? width_ - line.size() - timer.size() - 1 : 1, ' ') + timer;
        commit(line, kBlue);
    } else if (e.contains("output") && e["output"].is_string()) {
        partial_ += e["output"].get<std::string>();
        size_t nl;
        while ((nl = partial_.find('\n')) != std::string::npos) {
            tail_.push_back(partial_.substr(0, nl));
            partial_.erase(0, nl + 1);
            if (tail_.size() > kFailedTail) tail_.pop_front();
        }
    }
    redraw();
}

void BuildProgress::finish(bool failed) {
    if (quiet_ || !live_) return;
    if (failed && running_) {
        running_ = false;
        if (!partial_.empty()) tail_.push_back(partial_);
        commit(fit(" => ERROR [" + std::to_string(step_) + "/" + std::to_string(of_) + "] " + instruction_), kRed);
        for (const auto& l : tail_) std::fprintf(out_, "%s\n", fit(" > " + l).c_str());
    } else {
        // The header once more, with the whole time: the view's last word.
        redraw();
        drawn_ = 0;
    }
    std::fflush(out_);
}

}  // namespace ctr::cli
