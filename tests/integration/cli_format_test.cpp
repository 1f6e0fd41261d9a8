// Scripts written for docker: --filter and Go-template --format on every
// listing, inspect -f across kinds, events templates, and a shell script of
// docker idioms with its exact output.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

using ctr::test::DaemonRoot;
using nlohmann::json;

namespace {

std::string out_of(const DaemonRoot& r, const std::vector<std::string>& args) {
    auto res = r.cli(args);
    CHECK_MESSAGE(res.code == 0, res.err);
    return res.out;
}

// The one-line error of a command that must fail with 125.
using ctr::test::error_of;

}  // namespace

TEST_CASE("ps takes docker's filters and Go templates: same key ORs, different keys AND" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const std::string image = ctr::test::shared_busybox().image;
    REQUIRE(r.cli({"run", "-d", "--name", "web", "-l", "tier=front", image, "sleep", "600"}).code == 0);
    REQUIRE(r.cli({"run", "-d", "--name", "db", "-l", "tier=back", image, "sleep", "600"}).code == 0);
    CHECK(r.cli({"run", "--name", "done", image, "sh", "-c", "exit 3"}).code == 3);
    const std::string done_id = json::parse(out_of(r, {"inspect", "done"}))[0]["id"];

    CHECK(out_of(r, {"ps", "--format", "{{.Names}}"}) == "db\nweb\n");  // newest first, running only
    CHECK(out_of(r, {"ps", "-a", "--filter", "status=exited", "--format", "{{.Names}} {{.State}}"}) == "done exited\n");
    CHECK(out_of(r, {"ps", "-a", "--filter", "exited=3", "-q"}) == done_id.substr(0, 12) + "\n");
    CHECK(out_of(r, {"ps", "--filter", "label=tier", "--filter", "name=web", "--format", "{{.Names}}"}) == "web\n");
    CHECK(out_of(r, {"ps", "--filter", "name=web", "--filter", "name=db", "--format", "{{.Names}}"}) == "db\nweb\n");
    CHECK(out_of(r, {"ps", "-f", "label=tier=back", "-q"}).size() == 13);
    // Filters narrow our own table and json too.
    auto listed = json::parse(out_of(r, {"ps", "-a", "--filter", "label=tier=front", "--format", "json"}));
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["name"] == "web");
    CHECK(out_of(r, {"ps", "--format", "table {{.Names}}\\t{{.Label \"tier\"}}"}) == "NAMES     LABEL\ndb        back\nweb       front\n");
    auto row = json::parse(out_of(r, {"ps", "--filter", "name=web", "--format", "{{json .}}"}));
    CHECK(row["Names"] == "web");
    CHECK(row["Labels"] == "tier=front");
    CHECK(row["Command"] == "\"sleep 600\"");
    CHECK(row["Status"].get<std::string>().rfind("Up ", 0) == 0);
    CHECK(row["ID"].get<std::string>().size() == 12);
    CHECK(out_of(r, {"ps", "-n", "1", "--format", "{{.Names}}"}) == "done\n");
    CHECK(out_of(r, {"ps", "-l", "-q", "--no-trunc"}) == done_id + "\n");

    CHECK(error_of(r, {"ps", "--filter", "nope=1"}).find("invalid filter 'nope'") != std::string::npos);
    CHECK(error_of(r, {"ps", "--filter", "nope"}).find("--filter: \"nope\" is not KEY=VALUE") != std::string::npos);
    CHECK(error_of(r, {"ps", "--format", "{{.Nmae}}"}).find("can't evaluate field Nmae") != std::string::npos);
    CHECK(error_of(r, {"ps", "--format", "{{.Names"}).find("unclosed action") != std::string::npos);
    CHECK(error_of(r, {"ps", "--format", "{{nosuch .Names}}"}).find("function \"nosuch\" not defined") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "web", "db", "done"}).code == 0);
}

TEST_CASE("images, networks and volumes take filters and templates too" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const std::string image = ctr::test::shared_busybox().image;
    REQUIRE(r.cli({"pull", "--progress", "none", image}).code == 0);
    CHECK(out_of(r, {"images", "--format", "{{.Repository}}:{{.Tag}}"}) == image + "\n");
    CHECK(out_of(r, {"images", "--filter", "dangling=true", "-q"}).empty());
    auto images = out_of(r, {"image", "ls", "--format", "table {{.Repository}}\\t{{.Tag}}"});
    CHECK(images.rfind("REPOSITORY", 0) == 0);
    CHECK(images.find("\n" + image.substr(0, image.rfind(':'))) != std::string::npos);

    REQUIRE(r.cli({"network", "create", "--label", "team=a", "front"}).code == 0);
    REQUIRE(r.cli({"network", "create", "back"}).code == 0);
    CHECK(out_of(r, {"network", "ls", "--filter", "label=team=a", "--format", "{{.Name}} {{.Driver}}"}) == "front bridge\n");
    CHECK(out_of(r, {"network", "ls", "--filter", "name=back", "-q"}) == "back\n");
    REQUIRE(r.cli({"volume", "create", "--label", "keep=1", "data"}).code == 0);
    REQUIRE(r.cli({"volume", "create", "scratch"}).code == 0);
    CHECK(out_of(r, {"volume", "ls", "--filter", "label=keep", "--format", "{{.Name}}:{{.Driver}}"}) == "data:local\n");
    CHECK(out_of(r, {"volume", "ls", "--format", "table {{.Name}}"}) == "VOLUME NAME\ndata\nscratch\n");
    CHECK(error_of(r, {"volume", "ls", "--filter", "colour=red"}).find("invalid filter 'colour'") != std::string::npos);
    CHECK(r.cli({"network", "rm", "front", "back"}).code == 0);
}

TEST_CASE("inspect -f sees docker's inspect fields and ours, for every kind" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const std::string image = ctr::test::shared_busybox().image;
    REQUIRE(r.cli({"run", "-d", "--name", "web", image, "sleep", "600"}).code == 0);
    CHECK(r.cli({"run", "--name", "done", image, "sh", "-c", "exit 7"}).code == 7);
    const json ours = json::parse(out_of(r, {"inspect", "web"}))[0];
    CHECK(out_of(r, {"inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.Name}}", "web"}) == "running true /web\n");
    CHECK(out_of(r, {"inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "web"}) ==
          ours["config"]["network_attachments"][0]["ip"].get<std::string>() + "\n");
    CHECK(out_of(r, {"inspect", "--format", "{{.State.ExitCode}} {{.name}}", "done"}) == "7 done\n");
    CHECK(out_of(r, {"inspect", "-f", "{{.State.Pid}}", "web"}) == std::to_string(ours["pid"].get<int>()) + "\n");
    CHECK(out_of(r, {"inspect", "-f", "{{.Name}}", "web", "done"}) == "/web\n/done\n");
    CHECK(out_of(r, {"inspect", "--type", "image", "-f", "{{.Id}}", image}).rfind("sha256:", 0) == 0);
    CHECK(out_of(r, {"image", "inspect", "-f", "{{index .RepoTags 0}}", image}) == image + "\n");
    REQUIRE(r.cli({"volume", "create", "data"}).code == 0);
    CHECK(out_of(r, {"inspect", "-f", "{{.Name}} {{.Driver}}", "data"}) == "data local\n");  // no --type: found as a volume
    CHECK(out_of(r, {"volume", "inspect", "-f", "{{.Mountpoint}}", "data"}).find("/volumes/data/") != std::string::npos);
    CHECK(out_of(r, {"network", "inspect", "-f", "{{.Name}} {{.Driver}}", "default"}) == "default bridge\n");

    CHECK(error_of(r, {"inspect", "nothing-here"}).find("no such object: nothing-here") != std::string::npos);
    CHECK(error_of(r, {"inspect", "--type", "pod", "web"}).find("--type: \"pod\"") != std::string::npos);
    CHECK(error_of(r, {"inspect", "-f", "{{.State.Stat}}", "web"}).find("can't evaluate field Stat") != std::string::npos);
    CHECK(error_of(r, {"inspect", "-f", "{{if .Name}}", "web"}).find("has no {{end}}") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "web", "done"}).code == 0);
}

TEST_CASE("a shell script of docker idioms prints what docker's would" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const std::string script = ctr::test::env_or_empty("CTR_SOURCE_ROOT") + "/tests/fixtures/cli/docker-idioms.sh";
    const std::string path = (ctr::test::build_root() / "host").string() + ":" + ctr::test::env_or_empty("PATH");
    auto res = ctr::test::run("/bin/sh", {script, ctr::test::shared_busybox().image}, {"PATH=" + path, "CONTAINER_ROOT=" + r.root()});
    CHECK_MESSAGE(res.code == 0, res.err);
    CHECK(res.out ==
          "# names, sorted\ncache\nweb\nworker\n"
          "# the address of each network, docker's inspect shape\n1\n"
          "# status through a template\nrunning true\n"
          "# images as repository:tag\nIMAGE\n"
          "# a die event while a container exits\nexit 3\ndie quick 3\n1\n"
          "# remove what a label selects\n2\ncache\n"
          "# exited ones, a table\nNAMES     STATUS\nquick     Exited (3)\n"
          "# the last one made\nquick exited\n0\n");
}
