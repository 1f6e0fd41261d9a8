#include "guest_kernel.hpp"

#include <ctr/sys/spawn.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

namespace ctr::test {

namespace fs = std::filesystem;

namespace {

// Where install-deps.sh leaves the guest kernel package for the tests.
const fs::path kKernelCache = "/var/cache/container-tests/kernels";

}  // namespace

bool have_qemu() { return !sys::find_program("qemu-system-x86_64").empty(); }

fs::path kernel_package() {
    static fs::path found = [] {
        std::error_code ec;
        auto scan = [&]() -> fs::path {
            for (const auto& e : fs::directory_iterator(kKernelCache, ec))
                if (e.path().extension() == ".deb" && e.path().filename().string().rfind("linux-image-", 0) == 0) return e.path();
            return {};
        };
        if (auto p = scan(); !p.empty()) return p;
        fs::create_directories(kKernelCache, ec);
        std::string cmd = "cd " + kKernelCache.string() +
                          " && apt-get download $(apt-cache depends linux-image-cloud-amd64 | sed -n 's/.*Depends: //p' | head -1) >/dev/null 2>&1";
        REQUIRE(std::system(cmd.c_str()) == 0);
        return scan();
    }();
    REQUIRE_MESSAGE(!found.empty(), "no guest kernel package in " << kKernelCache);
    return found;
}

}  // namespace ctr::test
