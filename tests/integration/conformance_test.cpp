// The conformance suite passes our plugins, the example and runtime-minimal
// (built against every frozen minor's header too), and fails a broken one
// rule by rule, with a crash counted as a failed rule; its reports for CI.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"
#include "tests/support/tempdir.hpp"

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <ctr/sys/files.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>
#include <unistd.h>
#include <vector>

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
    CHECK(r.out.find("\n24 passed, 0 failed\n") != std::string::npos);
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
    CHECK(crun.out.find("\n24 passed, 0 failed\n") != std::string::npos);

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
    CHECK(runc.out.find("\n24 passed, 0 failed\n") != std::string::npos);
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

TEST_CASE("--format json and --junit FILE report every rule for a plugin's CI; a failure exits 1 in both") {
    ctr::test::ScratchDir dir;
    const auto xml = dir.path() / "report.xml";
    // A passing plugin: one document on stdout, one test case per rule.
    auto good = run("plugin-sdk/conformance/container-plugin-conformance",
                    {"--plugin", (ctr::test::build_root() / "plugins/image-oci").string(), "--format", "json", "--junit", xml.string()});
    INFO(good.out);
    CHECK(good.code == 0);
    auto doc = nlohmann::json::parse(good.out, nullptr, false);
    REQUIRE(doc.is_object());
    CHECK(doc["plugin"]["name"] == "image-oci");
    CHECK(doc["plugin"]["kind"] == "image");
    CHECK(doc["passed"] == 12);
    CHECK(doc["failed"] == 0);
    REQUIRE(doc["rules"].size() == 12);
    CHECK(doc["rules"][0]["result"] == "pass");
    CHECK(doc["rules"][0]["seconds"].is_number());
    auto junit = ctr::sys::read_file(xml).value();
    size_t cases = 0;
    for (size_t at = junit.find("<testcase "); at != std::string::npos; at = junit.find("<testcase ", at + 1)) ++cases;
    CHECK(cases == 12);
    CHECK(junit.find("<failure") == std::string::npos);
    CHECK(junit.find("tests=\"12\" failures=\"0\"") != std::string::npos);
    // XML a reader takes: Debian's python parses it.
    CHECK(ctr::test::sh("/usr/bin/python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); "
                        "print(len(d.getElementsByTagName(\"testcase\")))' " + xml.string()) == "12\n");

    // A broken one: its failures are in both, with their reasons, and exit 1.
    auto bad = run("plugin-sdk/conformance/container-plugin-conformance",
                   {"--plugin", ctr::test::env_or_empty("CTR_BROKEN_RUNTIME"), "--format", "json", "--junit", xml.string()});
    CHECK(bad.code == 1);
    auto bad_doc = nlohmann::json::parse(bad.out.substr(bad.out.find('{')), nullptr, false);  // the plugin's own stray line may come first
    REQUIRE(bad_doc.is_object());
    CHECK(bad_doc["failed"].get<int>() > 0);
    bool gen002 = false;
    for (const auto& rule : bad_doc["rules"])
        if (rule["id"] == "GEN-002") gen002 = rule["result"] == "fail" && !rule.value("detail", "").empty();
    CHECK(gen002);
    auto bad_junit = ctr::sys::read_file(xml).value();
    CHECK(bad_junit.find("<failure message=\"") != std::string::npos);
    CHECK(bad_junit.find("name=\"GEN-002 ") != std::string::npos);

    // A bad format is a usage error.
    CHECK(run("plugin-sdk/conformance/container-plugin-conformance", {"--plugin", "x", "--format", "xml"}).code != 0);

    // So is a report that cannot be written: said before any rule runs.
    auto unwritable = run("plugin-sdk/conformance/container-plugin-conformance",
                          {"--plugin", ctr::test::env_or_empty("CTR_EXAMPLE_PLUGIN"), "--junit", "/nonexistent/report.xml"});
    CHECK(unwritable.code == 2);
    CHECK(unwritable.err.find("--junit: cannot write \"/nonexistent/report.xml\"") != std::string::npos);
    CHECK(unwritable.out.find("GEN-001") == std::string::npos);
}

TEST_CASE("runtime-minimal, under 200 lines of C, passes every rule: built against the current header and against every frozen minor's" * CTR_NEEDS_ROOT) {
    // The lines of code (without comments and blank lines), as docs/plugin-tutorial.md says.
    std::string source = ctr::sys::read_file(std::filesystem::path(ctr::test::env_or_empty("CTR_SOURCE_ROOT")) / "plugin-sdk/examples/runtime-minimal/minimal.c").value(), code;
    for (size_t at = 0; at < source.size();) {
        size_t open = source.find("/*", at);
        code += source.substr(at, open == std::string::npos ? std::string::npos : open - at);
        if (open == std::string::npos) break;
        size_t close = source.find("*/", open);
        at = close == std::string::npos ? source.size() : close + 2;
    }
    std::istringstream lines(code);
    int count = 0;
    for (std::string line; std::getline(lines, line);)
        if (line.find_first_not_of(" \t") != std::string::npos) ++count;
    CHECK(count < 200);

    std::vector<std::filesystem::path> dirs = {ctr::test::build_root() / "plugin-sdk/examples/runtime-minimal"};
    for (const char* minor : {"1.0", "1.1", "1.2", "1.3", "1.4"}) dirs.push_back(ctr::test::build_root() / "tests/abi" / minor);
    for (const auto& dir : dirs) {
        auto r = run("plugin-sdk/conformance/container-plugin-conformance", {"--plugin", dir.string()});
        INFO(dir.string() << "\n" << r.out);
        CHECK(r.code == 0);
        CHECK(r.out.find("\n24 passed, 0 failed\n") != std::string::npos);
    }
}
