// Helpers for integration tests: run the built binaries.
#pragma once

#include "sys/process.hpp"
#include "tempdir.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace ctr::test {

std::filesystem::path build_root();   // $CTR_BUILD_ROOT
std::string env_or_empty(const char* name);

struct Run {
    int code = -1;
    std::string out, err;
};

// Runs a binary from the build tree (path relative to it) with args and extra env.
Run run(const std::string& binary, const std::vector<std::string>& args,
        const std::vector<std::string>& env = {}, int timeout_ms = 120000);

}  // namespace ctr::test
