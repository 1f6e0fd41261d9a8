// `container build`: a Dockerfile's stages run on the daemon's own parts.
// Each instruction gets a cache key (its parent's key, the instruction as
// expanded, the build args a RUN sees, the content of what COPY reads); a
// key already stored is a hit (CACHED), else the step runs and its result is
// committed through the image plugin (ABI 1.3 commit) under the key's name.
// RUN runs as a container through the chosen runtime plugin; COPY writes
// into a container's root filesystem; the change (its overlay upper
// directory) becomes the layer. See docs/build.md.
#pragma once

#include "apiserver/containers.hpp"
#include "apiserver/daemon.hpp"
#include "build/stages.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ctr::apiserver::build {

// Where cached steps are kept: image references under this name, which
// listings leave out and `builder prune` removes.
inline constexpr const char* kCacheRepository = "container-build.invalid/cache";
bool is_cache_reference(const std::string& reference);

// The cache's share of an image list (the image plugin's `list`): its
// entries; `size`, the bytes of the distinct layers they hold, each once,
// plus each entry's config and manifest; `own`, the part of that no other
// image holds: what removing them all would free.
struct CacheUsage {
    int64_t entries = 0, size = 0, own = 0;
    std::map<std::string, int64_t> own_by_reference;  // each entry's share of `own`
};
CacheUsage cache_usage(const nlohmann::json& images);

struct BuildRequest {
    std::string dockerfile;            // its text
    std::string dockerfile_name = "Dockerfile";
    std::string context;               // an absolute directory; empty: none (build -)
    std::string ignore;                // .dockerignore's text
    std::vector<std::string> tags;
    std::map<std::string, std::string> build_args;
    std::map<std::string, std::string> labels;
    std::string target;
    std::string runtime;
    // --secret: id -> a file to mount for the RUNs that ask (a path the
    // daemon reads; never in a layer, the history or a cache key).
    std::map<std::string, std::string> secrets;
    bool no_cache = false;
    bool pull = false;
    std::string platform;      // --platform: only the host's (linux/amd64) is built
    // -o type=oci|tar|local,dest=PATH: the result also written there (an
    // OCI archive, a tar of its filesystem, or its filesystem in a folder).
    std::string output_type, output_dest;

    static Result<BuildRequest> from_json(const nlohmann::json& body);
};

// Progress as JSON lines: {"step","of","instruction"}, {"cached":true} or
// {"done", "seconds"}, {"output"} (a RUN's), then the caller gets the result.
using Progress = std::function<void(const nlohmann::json&)>;

class Builder {
public:
    Builder(Daemon& d, Containers& cs) : d_(d), cs_(cs) {}
    // {"id", "reference", "tags"}; `cancelled` stops it between steps and
    // ends a running RUN.
    Result<nlohmann::json> build(const BuildRequest& req, const Progress& progress, const std::atomic<bool>& cancelled);
    // The cache's images: {"entries", "size", "own"} (CacheUsage). prune
    // removes them all (and the RUN cache mounts), or with keep_bytes >= 0
    // the oldest until the rest's own bytes fit in it: {"removed", "size"
    // (reclaimed), "kept" (own bytes left)}.
    Result<nlohmann::json> usage();
    Result<nlohmann::json> prune(int64_t keep_bytes = -1);
    // Containers a build left behind (a daemon killed mid-build): removed.
    void remove_leftovers();

private:
    struct Stage;   // builder.cpp
    struct Step;
    Daemon& d_;
    Containers& cs_;
};

}  // namespace ctr::apiserver::build
