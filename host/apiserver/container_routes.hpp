// The HTTP routes of containers: /v1/containers/... (create, start, stop,
// kill, wait, logs, exec, attach, stats, top, export, rename, remove), each a
// thin layer over Containers. docs/api.md lists them.
#pragma once

#include "apiserver/containers.hpp"
#include "apiserver/list_filters.hpp"
#include "apiserver/router.hpp"

namespace ctr::apiserver {

void add_container_routes(Router& router, Daemon& daemon, Containers& containers);

// Removes every container not running that `keep` allows:
// {"removed": [ids], "reclaimed": bytes of their writable layers}.
Result<nlohmann::json> prune_containers(Containers& containers, const PruneFilters& keep);

// Where the last `lines` lines of a log `file` begin (a last line without
// its newline counts as one): what `logs --tail` shows, ours and Docker's.
std::streamoff tail_offset(const std::filesystem::path& file, int64_t lines);
// "1700000000.123456789" (seconds since the epoch, a fraction or not) in
// nanoseconds, exactly; `what` names it in the error.
Result<int64_t> epoch_ns_of(const std::string& text, const std::string& what);

}  // namespace ctr::apiserver
