#include "services/mount_targets.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <vector>

namespace ctr::services {

namespace {

void push_parts(std::deque<std::string>& todo, const std::string& path) {
    // In front of what is left, in order.
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= path.size()) {
        size_t slash = path.find('/', start);
        if (slash == std::string::npos) slash = path.size();
        if (slash > start) parts.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
    todo.insert(todo.begin(), parts.begin(), parts.end());
}

std::string joined(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += "/" + p;
    return out.empty() ? "/" : out;
}

}  // namespace

std::string resolve_in_root(const std::filesystem::path& root, const std::string& path) {
    std::deque<std::string> todo;
    push_parts(todo, path);
    std::vector<std::string> done;
    int links = 0;
    while (!todo.empty()) {
        std::string part = todo.front();
        todo.pop_front();
        if (part == ".") continue;
        if (part == "..") {
            if (!done.empty()) done.pop_back();
            continue;
        }
        std::string here = root.string() + joined(done) + (done.empty() ? "" : "/") + part;
        struct stat st {};
        if (links < 40 && ::lstat(here.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = ::readlink(here.c_str(), target, sizeof target - 1);
            if (n > 0) {
                ++links;
                std::string t(target, static_cast<size_t>(n));
                if (t.front() == '/') done.clear();
                push_parts(todo, t);
                continue;
            }
        }
        done.push_back(part);
    }
    return joined(done);
}

Status check_destinations(const std::filesystem::path& root, const std::vector<std::string>& destinations) {
    for (const auto& dest : destinations) {
        const std::string real = resolve_in_root(root, dest);
        for (const std::string forbidden : {"/proc", "/sys", "/dev"})
            if (real == forbidden || real.rfind(forbidden + "/", 0) == 0)
                return make_error(CTR_E_INVALID_ARGUMENT, "mount destination " + dest + " leads to " + real +
                                                              " through the image's symlinks: cannot mount over " + forbidden);
    }
    return ok();
}

Status check_mount_targets(const std::filesystem::path& root, const nlohmann::json& mounts, size_t defaults) {
    std::vector<std::string> destinations;
    for (size_t i = defaults; i < mounts.size(); ++i) destinations.push_back(mounts[i].value("destination", std::string()));
    return check_destinations(root, destinations);
}

}  // namespace ctr::services
