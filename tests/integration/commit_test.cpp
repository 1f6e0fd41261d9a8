// diff and commit through the CLI and the docker CLI: a container's writes
// listed as docker lists them (the daemon's own mount points left out), and
// stored as an image that runs with them, its settings and -c changes.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include "tests/support/skip.hpp"
#include <ctr/sys/files.hpp>
#include <doctest/doctest.h>

#include <regex>

using ctr::test::DaemonRoot;

namespace {

ctr::test::Run docker(const DaemonRoot& r, const std::vector<std::string>& args) {
    return ctr::test::run(ctr::test::docker_cli(), args, {"DOCKER_HOST=unix://" + (r.path() / "run/container/docker.sock").string()});
}

}  // namespace

TEST_CASE("diff lists a container's writes as docker does, without the daemon's mount points" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    // The default network: /etc/hosts, /etc/resolv.conf and /etc/hostname
    // are mounted over empty files the runtime made; -v and --tmpfs too.
    REQUIRE(r.cli({"run", "--name", "w", "-v", "/vol", "--tmpfs", "/scratch", ctr::test::shared_busybox().image, "sh", "-c",
                   "echo extra >> /etc/group && busybox mkdir -p /data/x && echo new > /data/x/f && busybox rm /bin/grep && "
                   "echo v > /vol/in-volume && echo t > /scratch/in-tmpfs"})
                .code == 0);
    const std::string expected = "C /bin\nD /bin/grep\nA /data\nA /data/x\nA /data/x/f\nC /etc\nC /etc/group\n";
    auto diff = r.cli({"diff", "w"});
    CHECK_MESSAGE(diff.code == 0, diff.err);
    CHECK(diff.out == expected);
    auto as_json = r.cli({"diff", "--format", "json", "w"});
    CHECK(nlohmann::json::parse(as_json.out) ==
          nlohmann::json::parse(R"([{"Kind":0,"Path":"/bin"},{"Kind":2,"Path":"/bin/grep"},{"Kind":1,"Path":"/data"},)"
                                R"({"Kind":1,"Path":"/data/x"},{"Kind":1,"Path":"/data/x/f"},{"Kind":0,"Path":"/etc"},{"Kind":0,"Path":"/etc/group"}])"));

    // Nothing written: nothing listed, though overlay copied /etc up for
    // the mount points.
    REQUIRE(r.cli({"run", "--name", "same", ctr::test::shared_busybox().image, "true"}).code == 0);
    auto none = r.cli({"diff", "same"});
    CHECK(none.code == 0);
    CHECK(none.out == "");

    // A running container's writes show as they happen.
    REQUIRE(r.cli({"run", "-d", "--name", "live", ctr::test::shared_busybox().image, "sh", "-c", "echo up > /up && sleep 600"}).code == 0);
    REQUIRE(r.cli({"exec", "live", "sh", "-c", "while [ ! -e /up ]; do sleep 0.05; done"}).code == 0);
    CHECK(r.cli({"diff", "live"}).out == "A /up\n");

    // The docker CLI says the same.
    REQUIRE_FALSE(ctr::test::docker_cli().empty());
    auto via_docker = docker(r, {"diff", "w"});
    CHECK_MESSAGE(via_docker.code == 0, via_docker.err);
    CHECK(via_docker.out == expected);

    // ps -s: what it wrote (a few kB of files) and that with its image, as docker prints them.
    auto sized = r.cli({"ps", "-a", "-s", "--filter", "name=^w$", "--format", "{{.Names}} {{.Size}}"});
    CHECK_MESSAGE(std::regex_match(sized.out, std::regex("w [0-9.]+kB \\(virtual [0-9.]+MB\\)\n")), sized.out);
    CHECK(docker(r, {"ps", "-a", "-s", "--filter", "name=^w$", "--format", "{{.Names}} {{.Size}}"}).out == sized.out);
    CHECK(r.cli({"ps", "-a", "-s"}).out.find("SIZE") != std::string::npos);
    CHECK(r.cli({"ps", "-a", "--filter", "name=^w$", "--format", "{{.Size}}"}).out == "0B\n");  // not asked for

    auto missing = r.cli({"diff", "nope"});
    CHECK(missing.code == 125);
    CHECK(missing.err == "container: no such container: nope\n");
    auto bad = r.cli({"diff", "--format", "{{.Path}}", "w"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("--format \"{{.Path}}\"") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "w", "same", "live"}).code == 0);
}

TEST_CASE("commit stores a container's writes as an image with its settings and -c changes" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "--name", "w", "-e", "FROM_RUN=yes", "--label", "made=by-run", ctr::test::shared_busybox().image, "sh", "-c",
                   "busybox mkdir -p /data/x && echo new > /data/x/f && busybox rm /bin/grep"})
                .code == 0);
    auto made = r.cli({"commit", "-m", "the data", "-a", "Tester <t@example.com>", "-c", "CMD [\"cat\", \"/data/x/f\"]", "-c",
                       "ENV MODE=committed", "-c", "EXPOSE 8080", "w", "snap:1"});
    REQUIRE_MESSAGE(made.code == 0, made.err);
    CHECK(made.out.rfind("sha256:", 0) == 0);
    CHECK(made.out.size() == 7 + 64 + 1);

    // Its CMD, its files, its environment (the run's and the change's).
    CHECK(r.cli({"run", "--rm", "snap:1"}).out == "new\n");
    auto inside = r.cli({"run", "--rm", "snap:1", "sh", "-c", "echo $MODE $FROM_RUN; ls /bin/grep 2>&1; cat /etc/hosts >/dev/null && echo hosts"});
    CHECK(inside.out == "committed yes\nls: /bin/grep: No such file or directory\nhosts\n");
    CHECK(r.cli({"image", "inspect", "-f", "{{json .Config.ExposedPorts}} {{index .Config.Labels \"made\"}} {{.Author}}", "snap:1"}).out ==
          "{\"8080/tcp\":{}} by-run Tester <t@example.com>\n");
    auto history = r.cli({"history", "--format", "{{.Comment}}|{{.CreatedBy}}", "snap:1"});
    CHECK(history.out.rfind("the data|sh -c busybox mkdir -p /data/x", 0) == 0);
    // The new layer is one more on the base image's, with its size.
    auto sizes = r.cli({"history", "--format", "{{.Size}}", "snap:1"}).out;
    CHECK_MESSAGE(sizes.rfind("0B\n", 0) != 0, sizes);

    // A running container is frozen for the commit and thawed after it.
    REQUIRE(r.cli({"run", "-d", "--name", "live", ctr::test::shared_busybox().image, "sh", "-c", "echo up > /up && sleep 600"}).code == 0);
    REQUIRE(r.cli({"exec", "live", "sh", "-c", "while [ ! -e /up ]; do sleep 0.05; done"}).code == 0);
    auto live = r.cli({"commit", "live", "live:1"});
    REQUIRE_MESSAGE(live.code == 0, live.err);
    CHECK(r.cli({"inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "live"}).out == "running false\n");
    CHECK(r.cli({"run", "--rm", "live:1", "cat", "/up"}).out == "up\n");
    auto events = r.cli({"events", "--since", "1m", "--until", "0s", "--filter", "container=live", "--format", "{{.Action}}"}).out;
    CHECK(events.find("pause\nunpause\ncommit\n") != std::string::npos);
    CHECK(r.cli({"commit", "--pause=false", "live", "live:2"}).code == 0);

    // The docker CLI's commit, with its own change.
    auto via_docker = docker(r, {"commit", "-c", "CMD [\"echo\", \"via docker\"]", "w", "viadocker:2"});
    CHECK_MESSAGE(via_docker.code == 0, via_docker.err);
    CHECK(via_docker.out.rfind("sha256:", 0) == 0);
    CHECK(r.cli({"run", "--rm", "viadocker:2"}).out == "via docker\n");

    // Bad input: one line naming it, and no image, no scratch file left.
    const std::string images_before = r.cli({"images", "-q"}).out;
    for (const auto& [args, says] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"commit", "-c", "RUN rm -rf /", "w", "bad:1"}, "--change \"RUN rm -rf /\": RUN is not a change commit takes"},
             {{"commit", "-c", "ENV", "w", "bad:1"}, "--change \"ENV\""},
             {{"commit", "nope", "bad:1"}, "no such container: nope"},
             {{"commit", "w", "Bad:Name"}, "Bad:Name"}}) {
        auto bad = r.cli(args);
        CHECK(bad.code == 125);
        CHECK_MESSAGE(bad.err.find(says) != std::string::npos, bad.err);
        CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
    }
    CHECK(r.cli({"images", "-q"}).out == images_before);
    std::error_code ec;
    CHECK(std::filesystem::is_empty(r.path() / "var/lib/container/commit", ec));
    CHECK(r.cli({"rm", "-f", "w", "live"}).code == 0);
}

TEST_CASE("commit without a name and build without -t make nameless images: <none> in listings, found by id, named by tag, pruned" *
          CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "--name", "w", ctr::test::shared_busybox().image, "sh", "-c", "echo kept > /note"}).code == 0);
    auto made = r.cli({"commit", "w"});
    REQUIRE_MESSAGE(made.code == 0, made.err);
    REQUIRE(made.out.rfind("sha256:", 0) == 0);
    const std::string id = made.out.substr(7, 12);
    auto ls = r.cli({"image", "ls"});
    CHECK_MESSAGE(std::regex_search(ls.out, std::regex("\n<none> +<none> +" + id)), ls.out);
    CHECK(ls.out.find("untagged") == std::string::npos);  // the reserved name stays hidden
    CHECK(r.cli({"image", "ls", "-q", "--filter", "dangling=true"}).out == id + "\n");
    CHECK(r.cli({"images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", "--filter", "dangling=true"}).out == "<none>:<none> " + id + "\n");
    // Its id, in any of docker's forms, names it.
    CHECK(r.cli({"run", "--rm", id, "cat", "/note"}).out == "kept\n");
    CHECK(r.cli({"run", "--rm", made.out.substr(0, made.out.size() - 1), "cat", "/note"}).out == "kept\n");
    CHECK(docker(r, {"inspect", "-f", "{{len .RepoTags}}", id}).out == "0\n");
    CHECK(docker(r, {"images", "-q", "--filter", "dangling=true"}).out == id + "\n");
    auto ambiguous_or_none = r.cli({"run", "--rm", "000000000000", "true"});
    CHECK(ambiguous_or_none.code == 125);

    // A tag names it: nameless no more. A container made from it by its id
    // still starts after that.
    REQUIRE(r.cli({"run", "--name", "by-id", id, "cat", "/note"}).out == "kept\n");
    REQUIRE(r.cli({"tag", id, "noted:1"}).code == 0);
    // Its image is in use under every name: prune -a keeps it.
    REQUIRE(r.cli({"image", "prune", "-a", "-f"}).code == 0);
    CHECK(r.cli({"image", "ls", "-q"}).out.find("noted:1") != std::string::npos);
    CHECK(r.cli({"start", "by-id"}).code == 0);
    REQUIRE(r.cli({"rm", "-f", "by-id"}).code == 0);
    REQUIRE(r.cli({"tag", id, "noted:1"}).code == 0);
    CHECK(r.cli({"image", "ls", "-q", "--filter", "dangling=true"}).out.empty());
    CHECK(r.cli({"run", "--rm", "noted:1", "cat", "/note"}).out == "kept\n");

    // A build without -t is nameless too; prune takes the nameless ones only.
    ctr::test::ScratchDir ctx;
    REQUIRE(ctr::sys::write_file_atomic(ctx.path() / "Dockerfile", "FROM " + ctr::test::shared_busybox().image + "\nLABEL built=yes\n"));
    auto built = r.cli({"build", "-q", ctx.path().string()});
    REQUIRE_MESSAGE(built.code == 0, built.err);
    REQUIRE(built.out.rfind("sha256:", 0) == 0);
    CHECK(r.cli({"image", "ls", "-q", "--filter", "dangling=true"}).out == built.out.substr(7, 12) + "\n");
    REQUIRE(r.cli({"commit", "w"}).code == 0);
    CHECK(r.cli({"image", "ls", "-q", "--filter", "dangling=true"}).out.size() == 26);
    auto pruned = r.cli({"image", "prune", "-f"});
    CHECK_MESSAGE(pruned.code == 0, pruned.err);
    CHECK_MESSAGE(pruned.out.find("sha256:") != std::string::npos, pruned.out);  // by id: the reserved name stays hidden
    CHECK(pruned.out.find(".invalid") == std::string::npos);
    CHECK(r.cli({"image", "ls", "-q", "--filter", "dangling=true"}).out.empty());
    CHECK(r.cli({"run", "--rm", "noted:1", "cat", "/note"}).out == "kept\n");  // named: kept
    CHECK(r.cli({"rm", "w"}).code == 0);
}
