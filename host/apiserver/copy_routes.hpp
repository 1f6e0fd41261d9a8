// `cp` between a container and the client: GET .../archive/stat and
// .../archive (a tar of a path), POST .../archive (an upgrade: the client's
// tar goes in, one json line comes back). See docs/api.md.
#pragma once

#include "apiserver/containers.hpp"
#include "apiserver/router.hpp"

#include <functional>

namespace ctr::apiserver {

void add_copy_routes(Router& router, Containers& containers);

// The same work for the Docker API's archive routes. Each holds a stopped
// container's root filesystem mounted while it works.
using BodySource = std::function<long(char* buf, size_t n)>;  // 0 at the end, -1 on failure
// {"kind", "size", "mode", "mtime", "link_target"} of `path`; NOT_FOUND when missing.
Result<nlohmann::json> path_stat(Containers& cs, const store::ContainerRecord& c, const std::string& path, bool follow);
// `path` as a tar whose top entry is named `top`, written when the stream runs.
Result<std::function<void(const Writer&)>> path_tar(Containers& cs, const store::ContainerRecord& c, const std::string& path,
                                                     const std::string& top);
// The container's whole filesystem as a tar (export), written when the stream runs.
Result<std::function<void(const Writer&)>> export_tar(Containers& cs, const store::ContainerRecord& c);
// A tar from `read` unpacked into the existing directory `dir`; its owners
// kept with `keep_owner`, else the files are root's.
Status extract_into(Containers& cs, const store::ContainerRecord& c, const std::string& dir, const BodySource& read, bool keep_owner);

}  // namespace ctr::apiserver
