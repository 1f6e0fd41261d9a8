#include "apiserver/build/image_paths.hpp"

#include <ctr/sys/files.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>

#include <algorithm>
#include <memory>

namespace ctr::apiserver::build {

namespace fs = std::filesystem;

namespace {

struct DirClose {
    void operator()(DIR* d) const { ::closedir(d); }
};

// The names in folder `rel` of the root (unsorted); none when it is no folder.
std::vector<std::string> entries(int root, const std::string& rel) {
    sys::UniqueFd fd = sys::open_in_root(root, rel, O_RDONLY | O_DIRECTORY);
    if (!fd.valid()) return {};
    std::unique_ptr<DIR, DirClose> dir(::fdopendir(fd.get()));
    if (!dir) return {};
    (void)fd.release();  // the DIR owns it now
    std::vector<std::string> out;
    while (dirent* e = ::readdir(dir.get())) {
        std::string name = e->d_name;
        if (name != "." && name != "..") out.push_back(name);
    }
    return out;
}

}  // namespace

bool has_wildcard(const std::string& path) { return path.find_first_of("*?[") != std::string::npos; }

Result<std::vector<std::string>> glob_in_root(const fs::path& root, const std::string& pattern) {
    std::string clean = fs::path("/" + pattern).lexically_normal().string();
    if (clean.size() > 1 && clean.back() == '/') clean.pop_back();
    if (!has_wildcard(clean)) return std::vector<std::string>{clean};
    sys::UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_fd.valid()) return make_error(CTR_E_INTERNAL, "open the image's root \"" + root.string() + "\"");
    std::vector<std::string> level = {""};  // relative to the root
    size_t i = 1;
    while (i <= clean.size() && !level.empty()) {
        size_t j = clean.find('/', i);
        if (j == std::string::npos) j = clean.size();
        const std::string part = clean.substr(i, j - i);
        i = j + 1;
        std::vector<std::string> next;
        for (const auto& base : level) {
            auto join = [&base](const std::string& n) { return base.empty() ? n : base + "/" + n; };
            if (!has_wildcard(part)) {
                next.push_back(join(part));  // whether it exists is the copy's to say
                continue;
            }
            auto names = entries(root_fd.get(), base);
            std::sort(names.begin(), names.end());
            for (const auto& n : names)
                if (::fnmatch(part.c_str(), n.c_str(), FNM_PATHNAME) == 0) next.push_back(join(n));
        }
        level = std::move(next);
    }
    std::vector<std::string> out;
    for (const auto& rel : level) out.push_back("/" + rel);
    return out;
}

}  // namespace ctr::apiserver::build
