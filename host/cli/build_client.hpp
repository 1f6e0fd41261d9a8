// A build through the daemon (POST /v1/build), for `build` and for compose:
// the Dockerfile and .dockerignore read here, the context named by path,
// progress on stderr as it comes (`#N [N/M] ...`, `#N CACHED`, RUN's output).
#pragma once

#include "api/client.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ctr::cli {

struct BuildOptions {
    std::vector<std::string> tags, build_args, labels;
    std::vector<std::string> secrets;  // id=ID[,src=FILE|,env=NAME]
    std::string file, target, runtime, progress = "auto", iidfile, context, platform;
    std::string output;  // -o type=oci|tar|local,dest=PATH (a bare PATH: local)
    bool no_cache = false, pull = false, quiet = false;
};

// `args` and `labels`: objects of strings. Returns the daemon's result
// {"id", "reference", "tags"}.
Result<nlohmann::json> build_image(const api::Client& client, const BuildOptions& options, const nlohmann::json& args,
                                   const nlohmann::json& labels);

}  // namespace ctr::cli
