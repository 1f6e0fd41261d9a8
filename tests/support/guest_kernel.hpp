// What the runtime-microvm tests need from the host: QEMU, and Debian's
// cloud kernel package for the guest (scripts/install-deps.sh caches it;
// fetched with apt-get download when absent).
#pragma once

#include <filesystem>

namespace ctr::test {

bool have_qemu();

// The cached linux-image .deb; fails the test when there is none.
std::filesystem::path kernel_package();

}  // namespace ctr::test
