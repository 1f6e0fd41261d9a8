// Progress for long operations: per-item bars redrawn in place on a TTY,
// plain lines otherwise (one per item and state change), or nothing.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace ctr::cli {

enum class ProgressMode { automatic, plain, none };

class Progress {
public:
    // `mode` from --progress (auto|plain|none); auto picks bars on a TTY.
    Progress(const std::string& mode, std::FILE* out = stderr);
    // {"id", "action", "current", "total"}
    void event(const nlohmann::json& e);
    void finish();

private:
    struct Item {
        std::string action;
        int64_t current = 0, total = 0;
    };
    void redraw();

    std::FILE* out_;
    bool bars_ = false, quiet_ = false, color_ = false;
    std::vector<std::string> order_;
    std::map<std::string, Item> items_;
    size_t drawn_ = 0;
};

}  // namespace ctr::cli
