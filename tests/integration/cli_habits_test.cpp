// What docker users type from habit: the top-level shortcuts (ps, images,
// pull, tag, rmi, ...) and restart, through the CLI end to end.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

using ctr::test::DaemonRoot;
using nlohmann::json;

namespace {

ctr::test::BusyboxRegistry& shared() {
    static ctr::test::BusyboxRegistry s;
    return s;
}

json inspect(const DaemonRoot& r, const std::string& name) { return json::parse(r.cli({"inspect", name}).out)[0]; }

}  // namespace

TEST_CASE("ps, images, pull, tag and rmi are the commands docker users expect" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto pulled = r.cli({"pull", "--progress", "none", shared().image});
    CHECK_MESSAGE(pulled.code == 0, pulled.err);
    CHECK(r.cli({"tag", shared().image, "local/copy:2"}).code == 0);
    auto images = r.cli({"images", "--format", "json"});
    REQUIRE(images.code == 0);
    CHECK(images.out == r.cli({"image", "ls", "--format", "json"}).out);
    CHECK(images.out.find("local/copy:2") != std::string::npos);
    CHECK(r.cli({"rmi", "local/copy:2"}).code == 0);
    CHECK(r.cli({"images", "-q"}).out.find("local/copy") == std::string::npos);

    REQUIRE(r.cli({"run", "-d", "--name", "web", shared().image, "sleep", "600"}).code == 0);
    auto ps = r.cli({"ps"});
    CHECK(ps.code == 0);
    CHECK(ps.out.find("web") != std::string::npos);
    CHECK(r.cli({"ps", "-q"}).out == r.cli({"ls", "-q"}).out);
    // Shortcuts are words in command position only: a container may be named "images".
    REQUIRE(r.cli({"create", "--name", "images", shared().image, "true"}).code == 0);
    CHECK(r.cli({"rm", "images"}).code == 0);
    auto help = r.cli({"--help"});
    CHECK(help.out.find("rmi (image rm)") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "web"}).code == 0);
}

TEST_CASE("restart stops a running container and starts it again; a stopped one just starts" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "svc", shared().image, "sleep", "600"}).code == 0);
    const auto before = inspect(r, "svc");
    auto restarted = r.cli({"restart", "-t", "0", "svc"});
    CHECK_MESSAGE(restarted.code == 0, restarted.err);
    CHECK(restarted.out == "svc\n");
    const auto after = inspect(r, "svc");
    CHECK(after["state"] == "running");
    CHECK(after["pid"] != before["pid"]);  // a new process
    REQUIRE(r.cli({"stop", "-t", "0", "svc"}).code == 0);
    CHECK(r.cli({"restart", "svc"}).code == 0);
    CHECK(inspect(r, "svc")["state"] == "running");
    auto missing = r.cli({"restart", "nothing-here"});
    CHECK(missing.code == 125);
    CHECK(missing.err.find("no such container: nothing-here") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "svc"}).code == 0);
}
