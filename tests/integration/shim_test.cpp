// The shim runs a container end to end through a runtime plugin chosen by
// name: here the example runtime, with no change to the host.
#include "tests/support/run.hpp"

#include <ctr/sys/files.hpp>

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <unistd.h>

using ctr::test::run;
using ctr::test::ScratchDir;

namespace {

// A busybox bundle: rootfs with the applets the tests use, and config.json.
std::filesystem::path make_bundle(const ScratchDir& dir, const std::vector<std::string>& args) {
    namespace fs = std::filesystem;
    fs::path rootfs = dir.path() / "bundle/rootfs";
    for (const char* d : {"bin", "proc", "tmp"}) REQUIRE(ctr::sys::make_dirs(rootfs / d));
    fs::copy_file("/bin/busybox", rootfs / "bin/busybox");
    for (const char* a : {"sh", "echo", "cat", "hostname"}) fs::create_symlink("busybox", rootfs / "bin" / a);
    nlohmann::json spec = {{"ociVersion", "1.0.2"},
                           {"process", {{"args", args}, {"env", {"PATH=/bin"}}, {"cwd", "/"}}},
                           {"root", {{"path", "rootfs"}}},
                           {"hostname", "shim-test"}};
    REQUIRE(ctr::sys::write_file_atomic(dir.path() / "bundle/config.json", spec.dump()));
    return dir.path() / "bundle";
}

}  // namespace

TEST_CASE("container-shim runs a container with --runtime example and exits with its code" * CTR_NEEDS_ROOT) {
    ScratchDir dir;
    auto bundle = make_bundle(dir, {"sh", "-c", "echo hello from $(hostname); exit 3"});
    auto r = run("host/container-shim", {"--root", (dir.path() / "root").string(), "--runtime", "example", "--id",
                                         "shim-test-1", "--bundle", bundle.string()});
    CHECK(r.out == "hello from shim-test\n");
    CHECK(r.code == 3);
}

TEST_CASE("container-shim: a missing program is 127; an unknown runtime names the available ones" * CTR_NEEDS_ROOT) {
    ScratchDir dir;
    auto bundle = make_bundle(dir, {"/bin/no-such-program"});
    auto missing = run("host/container-shim", {"--root", (dir.path() / "root").string(), "--runtime", "example", "--id",
                                               "shim-test-2", "--bundle", bundle.string()});
    CHECK(missing.code == 127);
    CHECK(missing.err.find("cannot run the container's process") != std::string::npos);

    auto unknown = run("host/container-shim", {"--root", (dir.path() / "root").string(), "--runtime", "nope", "--id",
                                               "shim-test-3", "--bundle", bundle.string()});
    CHECK(unknown.code == 125);
    CHECK(unknown.err.find("unknown runtime plugin \"nope\"") != std::string::npos);
    CHECK(unknown.err.find("example") != std::string::npos);
}
