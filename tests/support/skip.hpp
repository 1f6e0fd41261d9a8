// Cases that need what a machine may lack (root, QEMU) are skipped by
// doctest, not passed empty: the suite's totals count them as skipped and
// name them, and CI, which has everything, fails if any is.
//
//   TEST_CASE("..." * CTR_NEEDS_ROOT) { ... }
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>

namespace ctr::test {

inline bool not_root() { return ::geteuid() != 0; }

}  // namespace ctr::test

#define CTR_NEEDS_ROOT doctest::skip(ctr::test::not_root())
