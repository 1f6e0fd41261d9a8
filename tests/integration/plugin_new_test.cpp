// `container plugin new`: each kind and language builds outside the tree
// against the installed SDK (headers and container-plugin-sdk.pc, as `meson
// install` puts them) and passes the rules its README claims; bad input is
// refused with nothing made; docs/plugin-tutorial.md runs as written.
#include "tests/support/run.hpp"
#include "tests/support/skip.hpp"
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <ctr/sys/files.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

using ctr::test::run;

namespace {

namespace fs = std::filesystem;

// The SDK installed as `meson install --tags devel` would, under `dest`, and
// the environment that makes pkg-config find it there.
std::vector<std::string> install_sdk(const fs::path& dest) {
    auto r = run("/usr/bin/meson", {"install", "-C", ctr::test::build_root().string(), "--no-rebuild", "--quiet",
                                    "--tags", "devel", "--destdir", dest.string()});
    REQUIRE_MESSAGE(r.code == 0, (r.out + r.err));
    fs::path pc;
    for (const auto& e : fs::recursive_directory_iterator(dest))
        if (e.path().filename() == "container-plugin-sdk.pc") pc = e.path();
    REQUIRE_MESSAGE(!pc.empty(), "no container-plugin-sdk.pc installed");
    REQUIRE(fs::exists(pc.parent_path().parent_path().parent_path().parent_path() / "include/ctr/plugin.h"));
    return {"PKG_CONFIG_PATH=" + pc.parent_path().string(), "PKG_CONFIG_SYSROOT_DIR=" + dest.string()};
}

// The ```sh blocks of a markdown text, in order.
std::vector<std::string> sh_blocks(const std::string& md) {
    std::vector<std::string> out;
    for (size_t at = md.find("```sh\n"); at != std::string::npos; at = md.find("```sh\n", at)) {
        size_t end = md.find("```", at + 6);
        REQUIRE(end != std::string::npos);
        out.push_back(md.substr(at + 6, end - at - 6));
        at = end + 3;
    }
    return out;
}

// The words of the README's conformance command (its first step), with
// "build" made a path under `dir`.
std::vector<std::string> claimed_check(const fs::path& dir) {
    auto readme = ctr::sys::read_file(dir / "README.md");
    REQUIRE(readme);
    auto blocks = sh_blocks(*readme);
    REQUIRE(!blocks.empty());
    std::istringstream lines(blocks[0]);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::vector<std::string> argv;
        for (std::string w; words >> w;) argv.push_back(w);
        if (argv.empty() || argv[0] != "container-plugin-conformance") continue;
        for (size_t i = 1; i + 1 < argv.size(); ++i)
            if (argv[i] == "--plugin") argv[i + 1] = (dir / argv[i + 1]).string();
        argv.erase(argv.begin());
        return argv;
    }
    FAIL("no container-plugin-conformance line in the first step of " << (dir / "README.md").string());
    return {};
}

}  // namespace

TEST_CASE("plugin new: every kind in C and C++ builds against the installed SDK and passes the rules its README claims" * CTR_NEEDS_ROOT) {
    ctr::test::ScratchDir d;
    auto env = install_sdk(d.path() / "sdk");
    struct Want {
        const char* kind;
        const char* lang;
        const char* totals;  // the conformance run's last line
    };
    for (const Want w : {Want{"runtime", "c", "24 passed, 0 failed"}, Want{"runtime", "cpp", "9 passed, 0 failed"},
                         Want{"network", "c", "12 passed, 0 failed"}, Want{"network", "cpp", "12 passed, 0 failed"},
                         Want{"image", "c", "12 passed, 0 failed"}, Want{"image", "cpp", "12 passed, 0 failed"}}) {
        std::string name = std::string("my-") + w.kind + "-" + w.lang;
        fs::path dir = d.path() / name;
        INFO(name);
        auto made = run("host/container", {"plugin", "new", "--kind", w.kind, "--lang", w.lang, name, dir.string()});
        REQUIRE_MESSAGE(made.code == 0, made.err);
        CHECK(made.out.find("README.md") != std::string::npos);
        for (const char* f : {"config.toml", "meson.build", "README.md"}) CHECK(fs::exists(dir / f));
        CHECK(fs::exists(dir / (std::string(w.kind) + "." + w.lang)));

        auto setup = run("/usr/bin/meson", {"setup", (dir / "build").string(), dir.string()}, env, 300000);
        REQUIRE_MESSAGE(setup.code == 0, (setup.out + setup.err));
        auto compile = run("/usr/bin/meson", {"compile", "-C", (dir / "build").string()}, env, 300000);
        REQUIRE_MESSAGE(compile.code == 0, (compile.out + compile.err));
        // The README's first step, as the author would run it.
        auto check = run("plugin-sdk/conformance/container-plugin-conformance", claimed_check(dir));
        INFO(check.out);
        CHECK(check.code == 0);
        CHECK(check.out.find("\n" + std::string(w.totals) + "\n") != std::string::npos);
    }
}

TEST_CASE("plugin new: a bad kind, language or name, or a folder in use, is one line naming it, with nothing made") {
    ctr::test::ScratchDir d;
    auto kind = run("host/container", {"plugin", "new", "--kind", "storage", "p", (d.path() / "p").string()});
    CHECK(kind.code == 125);
    CHECK(kind.err == "container: --kind: want runtime, network or image, not \"storage\"\n");
    auto lang = run("host/container", {"plugin", "new", "--kind", "image", "--lang", "rust", "p", (d.path() / "p").string()});
    CHECK(lang.code == 125);
    CHECK(lang.err.find("--lang: want c or cpp, not \"rust\"") != std::string::npos);
    auto name = run("host/container", {"plugin", "new", "--kind", "image", "Bad_Name", (d.path() / "p").string()});
    CHECK(name.code == 125);
    CHECK(name.err.find("invalid plugin name \"Bad_Name\"") != std::string::npos);
    CHECK(fs::is_empty(d.path()));

    fs::create_directories(d.path() / "used");
    REQUIRE(ctr::sys::write_file_atomic(d.path() / "used/keep.txt", "mine\n"));
    auto used = run("host/container", {"plugin", "new", "--kind", "image", "p", (d.path() / "used").string()});
    CHECK(used.code == 125);
    CHECK(used.err.find("exists and is not an empty folder") != std::string::npos);
    CHECK(ctr::sys::read_file(d.path() / "used/keep.txt").value() == "mine\n");
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(d.path())) left.push_back(e.path().filename().string());
    CHECK(left == std::vector<std::string>{"used"});  // no staging folder left behind

    // An empty folder is fine.
    fs::create_directories(d.path() / "empty");
    CHECK(run("host/container", {"plugin", "new", "--kind", "network", "p", (d.path() / "empty").string()}).code == 0);
    CHECK(fs::exists(d.path() / "empty/network.c"));
}

TEST_CASE("docs/plugin-tutorial.md runs as written: scaffold, 24 rules passed, container run --runtime on it" * CTR_NEEDS_ROOT) {
    ctr::test::ScratchDir d;
    auto env = install_sdk(d.path() / "sdk");
    ctr::test::DaemonRoot root;  // its destructor stops the daemon the tutorial starts
    auto md = ctr::sys::read_file(fs::path(ctr::test::env_or_empty("CTR_SOURCE_ROOT")) / "docs/plugin-tutorial.md");
    REQUIRE(md);
    auto blocks = sh_blocks(*md);
    REQUIRE(blocks.size() >= 5);
    fs::create_directories(d.path() / "work");
    std::string script = "set -euo pipefail\ncd " + (d.path() / "work").string() + "\n";
    for (const auto& b : blocks) script += b;
    auto b = ctr::test::build_root();
    env.push_back("PATH=" + (b / "host").string() + ":" + (b / "plugin-sdk/conformance").string() + ":" +
                  ctr::test::env_or_empty("PATH"));
    env.push_back("CONTAINER_ROOT=" + root.root());
    auto r = run("/bin/bash", {"-c", script}, env, 600000);
    INFO(r.out << r.err << root.daemon_log());
    CHECK(r.code == 0);
    CHECK(r.out.find("\n24 passed, 0 failed\n") != std::string::npos);
    CHECK(r.out.find("hello-runtime") != std::string::npos);
    CHECK(r.out.find("hello from pid 1\n") != std::string::npos);
}
