// The HTTP routes of containers: /v1/containers/... (create, start, stop,
// kill, wait, logs, exec, attach, stats, top, export, rename, remove), each a
// thin layer over Containers. docs/api.md lists them.
#pragma once

#include "apiserver/containers.hpp"
#include "apiserver/router.hpp"

namespace ctr::apiserver {

void add_container_routes(Router& router, Daemon& daemon, Containers& containers);

// Where the last `lines` lines of a log `file` begin (a last line without
// its newline counts as one): what `logs --tail` shows, ours and Docker's.
std::streamoff tail_offset(const std::filesystem::path& file, int64_t lines);

}  // namespace ctr::apiserver
