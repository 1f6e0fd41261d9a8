// The names users give containers, networks and volumes: one rule, Docker's.
#pragma once

#include <ctr/sdk/result.hpp>

#include <cstddef>
#include <string>

namespace ctr::services {

// Containers and networks: their names become DNS names on a network.
inline constexpr size_t kMaxObjectName = 63;
// Volumes: their names become directory names.
inline constexpr size_t kMaxVolumeName = 255;

// [A-Za-z0-9][A-Za-z0-9_.-]*, at most `max` characters; else
// `invalid WHAT name "NAME": want ..., at most MAX characters`.
Status check_name(const std::string& what, const std::string& name, size_t max = kMaxObjectName);

}  // namespace ctr::services
