// A scratch directory for unit tests, removed when the object dies.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/mount.h>
#include <vector>

namespace ctr::test {

class ScratchDir {
public:
    ScratchDir() {
        char tmpl[] = "/tmp/ctr-unit-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        path_ = tmpl;
    }
    ~ScratchDir() {
        unmount_below(path_);
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }

    // Mount points under `dir`, deepest first (from /proc/self/mountinfo).
    static std::vector<std::string> mounts_below(const std::filesystem::path& dir) {
        std::ifstream in("/proc/self/mountinfo");
        std::string line, prefix = dir.string() + "/";
        std::vector<std::string> out;
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string id, parent, devno, root, target;
            f >> id >> parent >> devno >> root >> target;
            if (target.rfind(prefix, 0) == 0) out.push_back(target);
        }
        std::sort(out.rbegin(), out.rend());
        return out;
    }

    // The safety net of a test that failed half-way: nothing it mounted stays.
    static void unmount_below(const std::filesystem::path& dir) {
        for (const auto& m : mounts_below(dir)) ::umount2(m.c_str(), MNT_DETACH);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace ctr::test
