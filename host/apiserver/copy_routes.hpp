// `cp` between a container and the client: GET .../archive/stat and
// .../archive (a tar of a path), POST .../archive (an upgrade: the client's
// tar goes in, one json line comes back). See docs/api.md.
#pragma once

#include "apiserver/containers.hpp"
#include "apiserver/router.hpp"

namespace ctr::apiserver {

void add_copy_routes(Router& router, Containers& containers);

}  // namespace ctr::apiserver
