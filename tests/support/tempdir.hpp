// A scratch directory for unit tests, removed when the object dies.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

namespace ctr::test {

class ScratchDir {
public:
    ScratchDir() {
        char tmpl[] = "/tmp/ctr-unit-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        path_ = tmpl;
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace ctr::test
