// The conformance suite passes the example runtime and fails a broken one
// rule by rule, with a crash counted as a failed rule.
#include "tests/support/run.hpp"

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <ctr/sys/files.hpp>

#include <sstream>
#include <unistd.h>

using ctr::test::run;

namespace {
bool line_starts(const std::string& out, const std::string& prefix) {
    return out.find("\n" + prefix) != std::string::npos || out.rfind(prefix, 0) == 0;
}
}  // namespace

TEST_CASE("the example runtime passes every rule" * CTR_NEEDS_ROOT) {
    auto r = run("plugin-sdk/conformance/container-plugin-conformance",
                 {"--plugin", ctr::test::env_or_empty("CTR_EXAMPLE_PLUGIN")});
    INFO(r.out);
    CHECK(r.code == 0);
    CHECK(r.out.find("\n23 passed, 0 failed\n") != std::string::npos);
    CHECK(r.out.find("FAIL") == std::string::npos);
}

TEST_CASE("a broken runtime fails rule by rule, and a crash is one failed rule") {
    auto r = run("plugin-sdk/conformance/container-plugin-conformance",
                 {"--plugin", ctr::test::env_or_empty("CTR_BROKEN_RUNTIME")});
    INFO(r.out);
    CHECK(r.code == 1);
    CHECK(line_starts(r.out, "PASS GEN-001"));
    CHECK(line_starts(r.out, "FAIL GEN-002"));
    CHECK(line_starts(r.out, "FAIL GEN-004"));
    CHECK(line_starts(r.out, "FAIL GEN-006"));
    CHECK(line_starts(r.out, "FAIL GEN-007"));
    if (geteuid() == 0) {
        CHECK(line_starts(r.out, "FAIL RT-001"));
        CHECK(line_starts(r.out, "FAIL RT-004"));
        CHECK(r.out.find("crashed: killed by signal 11") != std::string::npos);
    }
    CHECK(r.out.find(" passed, ") != std::string::npos);
}

TEST_CASE("--rule runs one rule; an unknown rule is a usage error") {
    auto one = run("plugin-sdk/conformance/container-plugin-conformance",
                   {"--plugin", ctr::test::env_or_empty("CTR_EXAMPLE_PLUGIN"), "--rule", "GEN-004"});
    CHECK(one.code == 0);
    CHECK(one.out.find("PASS GEN-004") != std::string::npos);
    CHECK(one.out.find("\n1 passed, 0 failed\n") != std::string::npos);

    auto bad = run("plugin-sdk/conformance/container-plugin-conformance",
                   {"--plugin", ctr::test::env_or_empty("CTR_EXAMPLE_PLUGIN"), "--rule", "XX-999"});
    CHECK(bad.code == 2);
    CHECK(bad.err.find("unknown rule \"XX-999\"") != std::string::npos);

    auto list = run("plugin-sdk/conformance/container-plugin-conformance", {"--list"});
    CHECK(list.code == 0);
    CHECK(list.out.find("RT-004") != std::string::npos);
}

TEST_CASE("runtime-linux passes every rule, with crun and with runc" * CTR_NEEDS_ROOT) {
    auto crun = run("plugin-sdk/conformance/container-plugin-conformance",
                    {"--plugin", (ctr::test::build_root() / "plugins/runtime-linux").string()});
    INFO(crun.out);
    CHECK(crun.code == 0);
    CHECK(crun.out.find("\n23 passed, 0 failed\n") != std::string::npos);

    // The same library, with a manifest that picks runc.
    ctr::test::ScratchDir dir;
    auto src = ctr::test::build_root() / "plugins/runtime-linux";
    std::filesystem::copy_file(src / "libruntime-linux.so", dir.path() / "libruntime-linux.so");
    auto manifest = *ctr::sys::read_file(src / "config.toml");
    manifest.replace(manifest.find("oci_runtime = \"crun\""), 20, "oci_runtime = \"runc\"");
    REQUIRE(ctr::sys::write_file_atomic(dir.path() / "config.toml", manifest));
    auto runc = run("plugin-sdk/conformance/container-plugin-conformance", {"--plugin", dir.path().string()});
    INFO(runc.out);
    CHECK(runc.code == 0);
    CHECK(runc.out.find("\n23 passed, 0 failed\n") != std::string::npos);
}

TEST_CASE("image-oci passes every rule") {
    auto r = run("plugin-sdk/conformance/container-plugin-conformance",
                 {"--plugin", (ctr::test::build_root() / "plugins/image-oci").string()});
    INFO(r.out);
    CHECK(r.code == 0);
    CHECK(r.out.find("\n12 passed, 0 failed\n") != std::string::npos);
}

TEST_CASE("network-vmnet passes every rule") {
    auto r = run("plugin-sdk/conformance/container-plugin-conformance",
                 {"--plugin", (ctr::test::build_root() / "plugins/network-vmnet").string()});
    INFO(r.out);
    CHECK(r.code == 0);
    CHECK(r.out.find("\n12 passed, 0 failed\n") != std::string::npos);
}

TEST_CASE("every plugin exports exactly one symbol: ctr_plugin_entry_v1") {
    for (const char* lib : {"plugins/runtime-linux/libruntime-linux.so", "plugins/image-oci/libimage-oci.so",
                            "plugins/network-vmnet/libnetwork-vmnet.so", "plugins/runtime-microvm/libruntime-microvm.so",
                            "plugin-sdk/examples/runtime-example/libruntime-example.so"}) {
        CAPTURE(lib);
        auto r = ctr::sys::run_capture({"/usr/bin/nm", "-D", "--defined-only", (ctr::test::build_root() / lib).string()}, 10000);
        REQUIRE(r.has_value());
        std::string exported;
        std::istringstream lines(r->out);
        std::string addr, type, name;
        while (lines >> addr >> type >> name)
            if (type == "T") exported += name + " ";
        CHECK(exported == "ctr_plugin_entry_v1 ");
    }
}
