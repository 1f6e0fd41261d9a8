#include "copy/layer_changes.hpp"

#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ctr::copy {

namespace fs = std::filesystem;

namespace {

class Walker {
public:
    Walker(const std::vector<fs::path>& lowers, const SkipEntry& skip) : lowers_(lowers), skip_(skip) {}

    // The changes under `dir` (relative `rel`); whether any was found, so a
    // directory copied up for nothing can be left out.
    Result<bool> tree(const fs::path& dir, const std::string& rel) {
        bool any = false;
        for (const auto& e : CTR_TRY(upper_entries(dir, rel, skip_))) {
            const std::string& r = e.rel;
            const fs::path& p = e.path;
            const struct stat& st = e.st;
            if (is_whiteout(st)) {
                out_.push_back({"/" + r, ChangeKind::deleted});
                any = true;
                continue;
            }
            struct stat below {};
            const bool existed = lower_stat(r, below);
            size_t at = out_.size();
            out_.push_back({"/" + r, existed ? ChangeKind::modified : ChangeKind::added});
            if (!S_ISDIR(st.st_mode)) {
                any = true;
                continue;
            }
            bool inner = CTR_TRY(tree(p, r));
            // A directory that was there before, is the same and holds no
            // change was copied up by overlay for something skipped.
            const bool same = existed && S_ISDIR(below.st_mode) && below.st_mode == st.st_mode && below.st_uid == st.st_uid &&
                              below.st_gid == st.st_gid && !is_opaque(p);
            if (same && !inner) out_.erase(out_.begin() + static_cast<long>(at));
            else any = true;
        }
        return any;
    }

    std::vector<Change> take() { return std::move(out_); }

private:
    // The entry at `rel` in the topmost layer that has it, as overlay shows
    // it: a whiteout, or an opaque directory on the way, hides what is below.
    bool lower_stat(const std::string& rel, struct stat& st) const {
        for (const auto& lower : lowers_) {
            if (::lstat((lower / rel).c_str(), &st) == 0) return !is_whiteout(st);
            if (hidden_at(lower, rel)) return false;
        }
        return false;
    }

    // Whether a parent of `rel` in `lower` hides the layers below it: a
    // whiteout or a file there, or an opaque directory.
    static bool hidden_at(const fs::path& lower, const std::string& rel) {
        fs::path walk = lower;
        for (const auto& part : fs::path(rel).parent_path()) {
            walk /= part;
            struct stat st {};
            if (::lstat(walk.c_str(), &st) != 0) return false;
            if (!S_ISDIR(st.st_mode) || is_opaque(walk)) return true;
        }
        return false;
    }

    const std::vector<fs::path>& lowers_;
    const SkipEntry& skip_;
    std::vector<Change> out_;
};

// mountinfo's octal escapes (\040 for a space) undone.
std::string unescape(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
            out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8)));
            i += 3;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

}  // namespace

Result<std::vector<Change>> layer_changes(const fs::path& upper, const std::vector<fs::path>& lowers, const SkipEntry& skip) {
    Walker w(lowers, skip);
    CTR_TRY(w.tree(upper, ""));
    return w.take();
}

Result<std::vector<fs::path>> overlay_lowers(const fs::path& mount_point) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    std::vector<fs::path> found;
    bool seen = false;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::vector<std::string> w;
        for (std::string x; words >> x;) w.push_back(x);
        auto dash = std::find(w.begin(), w.end(), "-");
        if (w.size() < 5 || dash == w.end() || w.end() - dash < 4 || unescape(w[4]) != mount_point.string()) continue;
        if (*(dash + 1) != "overlay") continue;
        // The last mount there is the one a lookup sees.
        found.clear();
        seen = true;
        std::string opts = *(dash + 3);
        std::stringstream split(opts);
        for (std::string opt; std::getline(split, opt, ',');) {
            if (opt.rfind("lowerdir=", 0) != 0) continue;
            std::stringstream dirs(opt.substr(9));
            for (std::string d; std::getline(dirs, d, ':');) found.emplace_back(unescape(d));
        }
    }
    if (!seen) return make_error(CTR_E_NOT_FOUND, "no overlay is mounted at \"" + mount_point.string() + "\"");
    return found;
}

}  // namespace ctr::copy
