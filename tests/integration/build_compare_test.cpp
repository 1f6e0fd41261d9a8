// Our builder against Debian's buildah (the reference, in tests only): each
// Dockerfile of tests/fixtures/build/compare built by both on the test
// registry's busybox, both results saved as OCI archives and flattened by
// tests/fixtures/build/flatten.py. The final filesystems (type, path, link
// target, size, mode, owner, xattrs, content digest) and the configs (Env,
// Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes, Labels,
// StopSignal, Healthcheck) must match, but for the differences docs/build.md
// lists: buildah's label io.buildah.version, and the mount points buildah
// leaves in RUN layers (/dev, /proc, /sys, /run, /etc/hosts, /etc/hostname,
// /etc/resolv.conf), which BuildKit and we do not.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include "tests/support/skip.hpp"
#include <ctr/sys/process.hpp>
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

using ctr::test::DaemonRoot;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kBuildah = "/usr/bin/buildah";

bool no_buildah() { return ::access(kBuildah, X_OK) != 0; }

fs::path corpus() { return fs::path(std::getenv("CTR_SOURCE_ROOT")) / "tests/fixtures/build"; }

ctr::sys::Captured run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
    ctr::sys::RunOptions o;
    o.timeout_ms = 300000;
    o.capture_stderr = true;
    o.env = env;
    auto r = ctr::sys::run_capture(argv, o);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
    return *r;
}

json flatten(const fs::path& archive) {
    auto out = run({"/usr/bin/python3", (corpus() / "flatten.py").string(), archive.string()});
    REQUIRE_MESSAGE(out.status.code == 0, out.err);
    return json::parse(out.out);
}

// Ours has the Healthcheck the Dockerfile gave (15-healthcheck), which
// buildah's archive lacks; it is checked here and then left out.
void ours_healthcheck_checked(const json& ours) {
    if (!ours["config"].contains("Healthcheck")) return;
    CHECK(ours["config"]["Healthcheck"] == json::parse(R"({"Interval":5000000000,"Retries":4,"Timeout":3000000000,"Test":["CMD-SHELL","wget -q -O- localhost || exit 1"]})"));
}

// The differences we mean to have, taken out of buildah's side (and ours).
void drop_intended(json& theirs, json& ours) {
    auto& labels = theirs["config"]["Labels"];
    if (labels.is_object()) {
        labels.erase("io.buildah.version");
        if (labels.empty()) theirs["config"].erase("Labels");
    }
    // buildah's OCI archives carry no Healthcheck (a Docker-format field); ours keep it, as BuildKit's do.
    if (!theirs["config"].contains("Healthcheck")) ours_healthcheck_checked(ours);
    static const std::set<std::string> mount_points = {"/dev", "/proc", "/sys", "/run", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"};
    for (const auto& p : mount_points)
        if (theirs["files"].contains(p) && !ours["files"].contains(p)) theirs["files"].erase(p);
    // /etc made only to hold those mount points.
    if (theirs["files"].contains("/etc") && !ours["files"].contains("/etc")) {
        bool only_mounts = true;
        for (const auto& [k, v] : theirs["files"].items())
            if (k.rfind("/etc/", 0) == 0) only_mounts = false;
        if (only_mounts) theirs["files"].erase("/etc");
    }
}

// "path: ours {...} theirs {...}" for every path that differs.
std::string differences(const json& ours, const json& theirs) {
    std::string out;
    std::set<std::string> paths;
    for (const auto& [k, v] : ours["files"].items()) paths.insert(k);
    for (const auto& [k, v] : theirs["files"].items()) paths.insert(k);
    for (const auto& p : paths) {
        json a = ours["files"].contains(p) ? ours["files"][p] : json(nullptr);
        json b = theirs["files"].contains(p) ? theirs["files"][p] : json(nullptr);
        if (a != b) out += p + ": ours " + a.dump() + " buildah " + b.dump() + "\n";
    }
    if (ours["config"] != theirs["config"]) out += "config: ours " + ours["config"].dump() + "\n        buildah " + theirs["config"].dump() + "\n";
    return out;
}

}  // namespace

TEST_CASE("build: 30 Dockerfiles give the filesystem and config buildah gives" * doctest::skip(ctr::test::not_root() || no_buildah())) {
    static ctr::test::BusyboxRegistry registry;
    DaemonRoot r;
    ctr::test::ScratchDir work;
    const fs::path policy = work.path() / "policy.json";
    std::ofstream(policy) << R"({"default": [{"type": "insecureAcceptAnything"}]})";
    const std::vector<std::string> buildah = {kBuildah, "--root", (work.path() / "storage").string(), "--runroot", (work.path() / "run").string(),
                                              "--storage-driver", "vfs"};
    const std::vector<std::string> env = {"TMPDIR=" + work.path().string(), "BUILDAH_ISOLATION=chroot"};
    std::vector<fs::path> cases;
    for (const auto& e : fs::directory_iterator(corpus() / "compare")) cases.push_back(e.path());
    std::sort(cases.begin(), cases.end());
    CHECK(cases.size() >= 30);
    const std::string base = "BASE=" + registry.image;
    for (const auto& dir : cases) {
        const std::string name = dir.filename().string();
        CAPTURE(name);
        auto ours = r.cli({"build", "-q", "-t", "cmp-" + name + ":1", "--build-arg", base, dir.string()});
        REQUIRE_MESSAGE(ours.code == 0, ours.err);
        const fs::path ours_tar = work.path() / (name + "-ours.tar"), theirs_tar = work.path() / (name + "-buildah.tar");
        REQUIRE(r.cli({"image", "save", "-o", ours_tar.string(), "cmp-" + name + ":1"}).code == 0);
        auto args = buildah;
        args.insert(args.end(), {"bud", "--layers", "--format", "docker", "--isolation", "chroot", "--tls-verify=false", "--signature-policy", policy.string(),
                                 "--build-arg", base, "-t", "cmp-" + name, dir.string()});
        auto theirs = run(args, env);
        REQUIRE_MESSAGE(theirs.status.code == 0, theirs.err);
        args = buildah;
        args.insert(args.end(), {"push", "--signature-policy", policy.string(), "cmp-" + name, "oci-archive:" + theirs_tar.string()});
        auto pushed = run(args, env);
        REQUIRE_MESSAGE(pushed.status.code == 0, pushed.err);
        json a = flatten(ours_tar), b = flatten(theirs_tar);
        drop_intended(b, a);
        if (!b["config"].contains("Healthcheck")) a["config"].erase("Healthcheck");
        std::string diff = differences(a, b);
        CHECK_MESSAGE(diff.empty(), diff);
    }
}
