#include "cli/progress.hpp"

#include <ctr/base/units.hpp>

#include <cstdlib>
#include <unistd.h>

namespace ctr::cli {

Progress::Progress(const std::string& mode, std::FILE* out) : out_(out) {
    bool tty = isatty(fileno(out)) == 1;
    const char* term = std::getenv("TERM");
    bool dumb = term && std::string(term) == "dumb";
    quiet_ = mode == "none";
    bars_ = mode == "auto" && tty && !dumb;
    const char* no_color = std::getenv("NO_COLOR");
    color_ = bars_ && !(no_color && *no_color);
}

void Progress::event(const nlohmann::json& e) {
    if (quiet_ || !e.is_object() || !e.contains("id")) return;
    std::string id = e.value("id", "");
    std::string action = e.value("action", "");
    auto [it, added] = items_.try_emplace(id);
    if (added) order_.push_back(id);
    Item& item = it->second;
    bool changed = item.action != action;
    item.action = action;
    item.current = e.value("current", int64_t{0});
    item.total = e.value("total", int64_t{0});
    if (bars_) {
        redraw();
    } else if (changed) {
        std::fprintf(out_, "%s: %s %s\n", id.c_str(), action.c_str(), human_size(item.total).c_str());
        std::fflush(out_);
    }
}

void Progress::redraw() {
    if (drawn_ > 0) std::fprintf(out_, "\033[%zuA", drawn_);  // back to the first bar
    for (const auto& id : order_) {
        const Item& it = items_[id];
        int width = 30;
        double frac = it.total > 0 ? static_cast<double>(it.current) / static_cast<double>(it.total) : 0;
        if (it.action == "done" || it.action == "exists") frac = 1;
        int filled = static_cast<int>(frac * width);
        std::string bar(static_cast<size_t>(filled), '=');
        if (filled < width) bar += '>' + std::string(static_cast<size_t>(width - filled - 1), ' ');
        const char* on = color_ ? (frac >= 1 ? "\033[32m" : "\033[36m") : "";
        const char* off = color_ ? "\033[0m" : "";
        std::fprintf(out_, "\033[2K%s %-9s %s[%s]%s %s / %s\n", id.c_str(), it.action.c_str(), on, bar.c_str(), off,
                     human_size(it.current).c_str(), human_size(it.total).c_str());
    }
    drawn_ = order_.size();
    std::fflush(out_);
}

void Progress::finish() {
    if (bars_ && drawn_ > 0) redraw();
}

}  // namespace ctr::cli
