#pragma once

#include "apiserver/build/builder.hpp"
#include "apiserver/router.hpp"

namespace ctr::apiserver::build {

void add_build_routes(Router& router, Daemon& d, Builder& builder);

}  // namespace ctr::apiserver::build
