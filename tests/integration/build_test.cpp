// container build end to end: a Dockerfile on the test registry's busybox,
// built through the daemon (RUN as a container, COPY into one), then run;
// the cache (all CACHED again, invalidated exactly where a file, an ignored
// file or a build arg says); and bad input refused with the step named and
// nothing tagged.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>

#include <csignal>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

using ctr::test::DaemonRoot;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::trunc) << text;
}

// The step numbers the output shows as CACHED.
std::string cached_steps(const std::string& err) {
    std::string out;
    size_t at = 0;
    while ((at = err.find(" CACHED", at)) != std::string::npos) {
        size_t hash = err.rfind('#', at);
        out += err.substr(hash + 1, at - hash - 1) + ",";
        ++at;
    }
    return out;
}

}  // namespace

TEST_CASE("build: a Dockerfile's instructions make an image that runs, and a rebuild is all cached" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ctr::test::ScratchDir ctx;
    write(ctx.path() / "app/main.txt", "main\n");
    write(ctx.path() / "app/lib/util.txt", "util\n");
    write(ctx.path() / "notes.log", "ignored\n");
    write(ctx.path() / ".dockerignore", "*.log\n");
    write(ctx.path() / "Dockerfile",
          "# syntax=docker/dockerfile:1\n"
          "ARG BASE\n"
          "FROM ${BASE} AS base\n"
          "ARG WHO=world\n"
          "ENV GREETING=\"hello $WHO\" \\\n    PATHS=/srv\n"
          "WORKDIR /srv\n"
          "COPY app/ ./\n"
          "COPY --chmod=0600 --chown=7:8 app/main.txt /etc/main.txt\n"
          "RUN echo \"$GREETING from $(pwd)\" > greeting.txt && ls -n /etc/main.txt\n"
          "RUN <<EOF\nset -e\nmkdir -p /made\necho heredoc > /made/h.txt\nEOF\n"
          "LABEL org.example.kind=test\n"
          "EXPOSE 8080 53/udp\n"
          "ENTRYPOINT [\"cat\"]\n"
          "CMD [\"greeting.txt\"]\n"
          "FROM base AS unused\n"
          "RUN exit 1\n"
          "FROM base\n"
          "USER 1000:1000\n");
    const std::string base = "BASE=" + ctr::test::shared_busybox().image;
    auto built = r.cli({"build", "-t", "built:1", "--build-arg", base, ctx.path().string()});
    REQUIRE_MESSAGE(built.code == 0, built.err);
    CHECK(built.out.rfind("sha256:", 0) == 0);
    CHECK(built.err.find("-rw-------    1 7        8") != std::string::npos);  // RUN's output, streamed
    CHECK(built.err.find("exit 1") == std::string::npos);                      // the unused stage was skipped
    auto ran = r.cli({"run", "--rm", "--user", "0", "built:1"});
    CHECK(ran.out == "hello world from /srv\n");
    CHECK(r.cli({"run", "--rm", "built:1", "/made/h.txt", "/srv/lib/util.txt", "/srv/main.txt"}).out == "heredoc\nutil\nmain\n");
    CHECK(r.cli({"run", "--rm", "--entrypoint", "ls", "built:1", "/srv"}).out == "greeting.txt\nlib\nmain.txt\n");
    auto config = r.cli({"image", "inspect", "-f", "{{json .Config.ExposedPorts}} {{.Config.User}} {{index .Config.Labels \"org.example.kind\"}}", "built:1"});
    CHECK(config.out == "{\"53/udp\":{},\"8080/tcp\":{}} 1000:1000 test\n");
    // The builder's steps are not images a user sees.
    CHECK(r.cli({"image", "ls", "--format", "{{.Repository}}"}).out.find("container-build") == std::string::npos);

    // Again: every step after FROM and ARG is a hit, and the image is the same.
    auto again = r.cli({"build", "-t", "built:1", "--build-arg", base, ctx.path().string()});
    REQUIRE_MESSAGE(again.code == 0, again.err);
    CHECK(again.out == built.out);
    CHECK(cached_steps(again.err) == "3,4,5,6,7,8,9,10,11,12,14,");
    // The live view (what a terminal gets): one line per step, drawn in place.
    auto live = r.cli({"build", "--progress", "tty", "-t", "built:1", "--build-arg", base, ctx.path().string()});
    REQUIRE_MESSAGE(live.code == 0, live.err);
    CHECK(live.out == built.out);
    CHECK(live.err.find(" => CACHED [4/14] WORKDIR /srv\n") != std::string::npos);
    CHECK(live.err.find("[+] Building ") != std::string::npos);
    CHECK(live.err.find("\033[") != std::string::npos);
    CHECK(live.err.find("#4 CACHED") == std::string::npos);
    CHECK(r.cli({"build", "--progress", "fancy", ctx.path().string()}).code == 125);
    // An ignored file changes nothing; a copied file invalidates from its COPY on.
    write(ctx.path() / "notes.log", "changed\n");
    CHECK(cached_steps(r.cli({"build", "--build-arg", base, ctx.path().string()}).err) == "3,4,5,6,7,8,9,10,11,12,14,");
    write(ctx.path() / "app/lib/util.txt", "util 2\n");
    CHECK(cached_steps(r.cli({"build", "--build-arg", base, ctx.path().string()}).err) == "3,4,");
    // A build arg: from the first step that uses it (ENV here).
    CHECK(cached_steps(r.cli({"build", "--build-arg", base, "--build-arg", "WHO=you", ctx.path().string()}).err) == "");
    auto du = r.cli({"builder", "du"});
    CHECK(du.out.find(" cached steps") != std::string::npos);
    // --keep-storage: what fits stays (all of it here), the oldest go first otherwise.
    CHECK(r.cli({"builder", "prune", "-f", "--keep-storage", "100g"}).out.rfind("removed 0 cached steps\n", 0) == 0);
    CHECK(r.cli({"builder", "du"}).out == du.out);
    CHECK(r.cli({"builder", "prune", "-f", "--keep-storage", "lots"}).code == 125);
    auto to_one_byte = r.cli({"builder", "prune", "-f", "--keep-storage", "1"});
    CHECK(to_one_byte.out.rfind("removed 0", 0) != 0);
    CHECK(r.cli({"builder", "du"}).out.rfind("0 cached steps", 0) == 0);
    CHECK(r.cli({"builder", "prune", "-f"}).code == 0);
    CHECK(r.cli({"builder", "du"}).out.rfind("0 cached steps", 0) == 0);
    CHECK(r.cli({"run", "--rm", "built:1"}).out == "hello world from /srv\n");  // a built image outlives the cache
}

TEST_CASE("build: bad input is refused with the place named, and nothing is tagged" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ctr::test::ScratchDir ctx, outside;
    write(outside.path() / "secret.txt", "secret\n");
    write(ctx.path() / "ok.txt", "ok\n");
    fs::create_symlink(outside.path() / "secret.txt", ctx.path() / "link.txt");
    auto build = [&](const std::string& dockerfile) {
        write(ctx.path() / "Dockerfile", dockerfile);
        return r.cli({"build", "-t", "bad:1", ctx.path().string()});
    };
    const std::string from = "FROM " + ctr::test::shared_busybox().image + "\n";
    auto failing = build(from + "COPY ok.txt /ok.txt\nRUN echo before; exit 3\n");
    CHECK(failing.code == 125);
    CHECK(failing.err.find("Dockerfile:3:1: RUN failed with exit code 3 (step 3)") != std::string::npos);
    CHECK(failing.err.find("before") != std::string::npos);
    CHECK(r.cli({"image", "inspect", "bad:1"}).code != 0);
    CHECK(r.cli({"ps", "-a", "-q"}).out.empty());  // the step's container is gone
    auto missing = build(from + "COPY nothere.txt /x\n");
    CHECK(missing.code != 0);
    CHECK(missing.err.find("Dockerfile:2:1: COPY nothere.txt: no such file or directory in the build context") != std::string::npos);
    auto climb = build(from + "COPY ../x /x\n");
    CHECK(climb.err.find("COPY ../x: the path leads outside the build context") != std::string::npos);
    auto link = build(from + "COPY link.txt /x\n");
    CHECK(link.err.find("\"link.txt\" leads outside the build context") != std::string::npos);
    auto unknown = build(from + "\nCOPYY a b\n");
    CHECK(unknown.err == "container: Dockerfile:3:1: unknown instruction: COPYY\n");
    write(ctx.path() / "Dockerfile", from);
    auto target = r.cli({"build", "--target", "nope", ctx.path().string()});
    CHECK(target.err.find("target stage \"nope\" could not be found") != std::string::npos);
    CHECK(r.cli({"image", "inspect", "bad:1"}).code != 0);
    // Dockerfile on stdin, no context: COPY has nothing to read.
    auto piped = r.cli({"build", "-"}, {});
    CHECK(piped.code != 0);
}

TEST_CASE("build: COPY --from takes files from an earlier stage (by name or index) and from an image" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ctr::test::ScratchDir ctx;
    write(ctx.path() / "Dockerfile",
          "FROM " + ctr::test::shared_busybox().image + " AS maker\n"
          "RUN mkdir -p /out/sub && echo one > /out/one.txt && echo two > /out/sub/two.txt && ln -s one.txt /out/link\n"
          "FROM scratch\n"
          "COPY --from=maker /out /app/\n"
          "COPY --from=0 --chown=5:6 /out/one.txt /single\n"
          "COPY --from=" + ctr::test::shared_busybox().image + " /bin/busybox /bin/\n"
          "COPY --from=maker /out/one.txt /out/sub/two.txt /both/\n"
          "ENTRYPOINT [\"/bin/busybox\"]\n");
    auto built = r.cli({"build", "-t", "multi:1", ctx.path().string()});
    REQUIRE_MESSAGE(built.code == 0, built.err);
    CHECK(r.cli({"run", "--rm", "multi:1", "cat", "/app/one.txt", "/app/sub/two.txt", "/app/link", "/single", "/both/one.txt", "/both/two.txt"}).out ==
          "one\ntwo\none\none\none\ntwo\n");
    CHECK(r.cli({"run", "--rm", "multi:1", "readlink", "/app/link"}).out == "one.txt\n");
    CHECK(r.cli({"run", "--rm", "multi:1", "stat", "-c", "%u:%g", "/single", "/app/one.txt"}).out == "5:6\n0:0\n");
    // The scratch stage's image holds only what was copied.
    CHECK(r.cli({"run", "--rm", "multi:1", "ls", "/"}).out == "app\nbin\nboth\ndev\netc\nproc\nsingle\nsys\n");
    auto again = r.cli({"build", "-t", "multi:1", ctx.path().string()});
    CHECK(again.out == built.out);
    CHECK(cached_steps(again.err) == "2,4,5,6,7,8,");
    write(ctx.path() / "Dockerfile", "FROM " + ctr::test::shared_busybox().image + "\nCOPY --from=" + ctr::test::shared_busybox().image + " /nothere /x\n");
    auto missing = r.cli({"build", ctx.path().string()});
    CHECK(missing.err.find("COPY --from: /nothere: no such file or directory in") != std::string::npos);
}

TEST_CASE("build: compose builds the services that have a build section (compose build, up)" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ctr::test::ScratchDir dir;
    write(dir.path() / "app/Dockerfile.app", "ARG BASE\nFROM $BASE\nARG WHO\nRUN echo \"hi $WHO\" > /hi\nCMD [\"cat\", \"/hi\"]\n");
    write(dir.path() / "compose.yaml",
          "services:\n"
          "  app:\n"
          "    build:\n"
          "      context: ./app\n"
          "      dockerfile: Dockerfile.app\n"
          "      args:\n"
          "        BASE: " + ctr::test::shared_busybox().image + "\n"
          "        WHO: compose\n"
          "  named:\n"
          "    image: mine/named:2\n"
          "    build:\n"
          "      context: app\n"
          "      dockerfile: Dockerfile.app\n"
          "      args: [\"BASE=" + ctr::test::shared_busybox().image + "\", \"WHO=named\"]\n");
    const std::string file = (dir.path() / "compose.yaml").string();
    auto built = r.cli({"compose", "-f", file, "-p", "demo", "build"});
    REQUIRE_MESSAGE(built.code == 0, built.err);
    CHECK(r.cli({"run", "--rm", "demo-app"}).out == "hi compose\n");
    CHECK(r.cli({"run", "--rm", "mine/named:2"}).out == "hi named\n");
    CHECK(r.cli({"image", "rm", "demo-app"}).code == 0);
    // up builds what is missing, and runs it.
    auto up = r.cli({"compose", "-f", file, "-p", "demo", "up", "-d"});
    REQUIRE_MESSAGE(up.code == 0, up.err);
    r.cli({"wait", "demo-app-1"});
    CHECK(r.cli({"logs", "demo-app-1"}).out == "hi compose\n");
    // up --build after a change: the rebuilt service's container is made again
    // from its new image (its config is the same); the other one's image did not change.
    write(dir.path() / "app/Dockerfile.app", "ARG BASE\nFROM $BASE\nARG WHO\nRUN echo \"hi $WHO\" > /hi\nCMD [\"cat\", \"/hi\"]\nLABEL changed=yes\n");
    auto rebuilt = r.cli({"compose", "-f", file, "-p", "demo", "up", "-d", "--build", "app"});
    REQUIRE_MESSAGE(rebuilt.code == 0, rebuilt.err);
    CHECK_MESSAGE((rebuilt.out + rebuilt.err).find("Recreated") != std::string::npos, rebuilt.out << rebuilt.err);
    auto made_from = nlohmann::json::parse(r.cli({"inspect", "demo-app-1"}).out)[0]["config"]["image_digest"];
    CHECK(made_from == nlohmann::json::parse(r.cli({"image", "inspect", "demo-app"}).out)[0]["digest"]);
    auto same = r.cli({"compose", "-f", file, "-p", "demo", "up", "-d"});
    REQUIRE_MESSAGE(same.code == 0, same.err);
    CHECK_MESSAGE((same.out + same.err).find("Recreated") == std::string::npos, same.out << same.err);
    CHECK(r.cli({"compose", "-f", file, "-p", "demo", "down"}).code == 0);
    auto bad = dir.path() / "bad.yaml";
    write(bad, "services:\n  x:\n    build:\n      context: https://example.com/repo.git\n");
    auto refused = r.cli({"compose", "-f", bad.string(), "build"});
    CHECK(refused.code != 0);
    CHECK(refused.err.find("only a local directory is supported") != std::string::npos);
}

TEST_CASE("build: docker build (the classic API's POST /build) builds through our builder" *
          doctest::skip(ctr::test::not_root() || ctr::test::docker_cli().empty())) {
    DaemonRoot r;
    r.start();
    ctr::test::ScratchDir ctx;
    write(ctx.path() / "Dockerfile.dk", "ARG BASE\nFROM $BASE\nCOPY greeting /\nRUN echo built-by-docker\nCMD [\"cat\", \"/greeting\"]\n");
    write(ctx.path() / "greeting", "hello from docker build\n");
    write(ctx.path() / "ignored.txt", "x\n");
    write(ctx.path() / ".dockerignore", "ignored.txt\n");
    auto docker = [&](const std::vector<std::string>& args) {
        std::vector<std::string> argv = {ctr::test::docker_cli()};
        argv.insert(argv.end(), args.begin(), args.end());
        ctr::sys::RunOptions o;
        o.timeout_ms = 120000;
        o.capture_stderr = true;
        o.env = {"DOCKER_HOST=unix://" + (r.path() / "run/container/docker.sock").string(), "DOCKER_CONFIG=" + (r.path() / "docker-config").string(),
                 "DOCKER_BUILDKIT=0"};
        auto res = ctr::sys::run_capture(argv, o);
        REQUIRE(res.has_value());
        return *res;
    };
    auto built = docker({"build", "-t", "dk:1", "-f", (ctx.path() / "Dockerfile.dk").string(), "--build-arg", "BASE=" + ctr::test::shared_busybox().image, ctx.path().string()});
    CHECK_MESSAGE(built.status.code == 0, built.err);
    CHECK_MESSAGE(built.out.find("Step 3/4 : RUN echo built-by-docker") != std::string::npos, built.out);
    CHECK(built.out.find("built-by-docker\n") != std::string::npos);
    CHECK(built.out.find("Successfully tagged docker.io/library/dk:1") != std::string::npos);
    CHECK(docker({"run", "--rm", "dk:1"}).out == "hello from docker build\n");
    auto quiet = docker({"build", "-q", "-f", (ctx.path() / "Dockerfile.dk").string(), "--build-arg", "BASE=" + ctr::test::shared_busybox().image, ctx.path().string()});
    CHECK_MESSAGE(quiet.out.rfind("sha256:", 0) == 0, quiet.out);
    CHECK(r.cli({"image", "inspect", "-f", "{{.Id}}", "dk:1"}).code == 0);
    auto failing = docker({"build", "-f", (ctx.path() / "missing").string(), ctx.path().string()});
    CHECK(failing.status.code != 0);
    // docker's df counts the cached steps (COPY, RUN and CMD: every step but ARG and FROM) as its Build Cache.
    auto df = docker({"system", "df", "--format", "{{.Type}} {{.TotalCount}}"});
    CHECK_MESSAGE(df.out.find("Build Cache 3\n") != std::string::npos, df.out << df.err);
}

TEST_CASE("build: COPY heredocs (expanded unless quoted) and --chown by name from the image's passwd and group" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ctr::test::ScratchDir ctx;
    write(ctx.path() / "a.txt", "a\n");
    write(ctx.path() / "Dockerfile",
          "FROM " + ctr::test::shared_busybox().image + "\n"
          "RUN mkdir -p /etc && echo 'builder1:x:1234:2345::/home/b:/bin/sh' >> /etc/passwd && echo 'buildgrp:x:4321:' >> /etc/group\n"
          "ENV WHERE=/srv\n"
          "COPY <<EOF /etc/conf\nhome=$WHERE \"quoted\"\nEOF\n"
          "COPY <<\"EOF\" /literal\nkeep $WHERE\nEOF\n"
          "COPY <<A <<B /two/\none\nA\ntwo\nB\n"
          "COPY --chown=builder1 a.txt /owned-by-app\n"
          "COPY --chown=builder1:buildgrp a.txt /owned-by-app-staff\n"
          "COPY --chown=55:66 a.txt /owned-by-numbers\n");
    auto built = r.cli({"build", "-t", "docs:1", ctx.path().string()});
    REQUIRE_MESSAGE(built.code == 0, built.err);
    CHECK(r.cli({"run", "--rm", "docs:1", "cat", "/etc/conf", "/literal", "/two/A", "/two/B"}).out ==
          "home=/srv \"quoted\"\nkeep $WHERE\none\ntwo\n");
    CHECK(r.cli({"run", "--rm", "docs:1", "busybox", "stat", "-c", "%u:%g", "/owned-by-app", "/owned-by-app-staff", "/owned-by-numbers", "/etc/conf"}).out ==
          "1234:2345\n1234:4321\n55:66\n0:0\n");
    write(ctx.path() / "Dockerfile", "FROM " + ctr::test::shared_busybox().image + "\nCOPY --chown=nobody-here a.txt /x\n");
    auto unknown = r.cli({"build", ctx.path().string()});
    CHECK(unknown.err.find("Dockerfile:2:1: --chown=nobody-here: no user \"nobody-here\" in the image's /etc/passwd") != std::string::npos);
}

TEST_CASE("build: RUN --mount=type=bind,from= a stage or an image, COPY --from with wildcards; a bound file's change invalidates its RUN" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ctr::test::ScratchDir ctx;
    write(ctx.path() / "input.txt", "first\n");
    write(ctx.path() / "Dockerfile",
          "FROM " + ctr::test::shared_busybox().image + " AS maker\n"
          "RUN mkdir -p /out && echo alpha > /out/a.txt && echo beta > /out/b.txt && echo gamma > /out/c.log && ln -s /out /outlink\n"
          "FROM " + ctr::test::shared_busybox().image + "\n"
          "RUN --mount=type=bind,from=maker,source=/out,target=/m cat /m/a.txt /m/b.txt > /bound\n"
          // The source through the image's own absolute symlink; writes to a rw bind are dropped.
          "RUN --mount=type=bind,from=maker,source=/outlink/c.log,target=/c.log,rw sh -c 'cat /c.log > /bound-link; echo scribble > /c.log'\n"
          "RUN --mount=type=bind,from=" + ctr::test::shared_busybox().image + ",source=/bin/busybox,target=/opt/tools/echo /opt/tools/echo from-image > /bound-image\n"
          "COPY --from=maker /out/*.txt /globbed/\n"
          "COPY --from=maker /o?t/c.* /single-glob\n"
          "COPY --from=maker /out/c.log /after-rw\n"
          "RUN --mount=type=bind,source=input.txt,target=/in.txt cat /in.txt > /copied\n");
    auto built = r.cli({"build", "-t", "binds:1", ctx.path().string()});
    REQUIRE_MESSAGE(built.code == 0, built.err);
    CHECK(r.cli({"run", "--rm", "binds:1", "cat", "/bound", "/bound-link", "/bound-image", "/globbed/a.txt", "/globbed/b.txt", "/single-glob",
                 "/after-rw", "/copied"})
              .out == "alpha\nbeta\ngamma\nfrom-image\nalpha\nbeta\ngamma\ngamma\nfirst\n");
    CHECK(r.cli({"run", "--rm", "binds:1", "ls", "/globbed"}).out == "a.txt\nb.txt\n");
    // The mount points are not in the image.
    for (const char* point : {"/m", "/c.log", "/opt/tools", "/in.txt"}) CHECK_MESSAGE(r.cli({"run", "--rm", "binds:1", "ls", point}).code != 0, point);
    auto again = r.cli({"build", "-t", "binds:1", ctx.path().string()});
    REQUIRE_MESSAGE(again.code == 0, again.err);
    CHECK(cached_steps(again.err) == "2,4,5,6,7,8,9,10,");
    // A change in the bound context file runs that RUN again, and only it.
    write(ctx.path() / "input.txt", "second\n");
    auto changed = r.cli({"build", "-t", "binds:2", ctx.path().string()});
    REQUIRE_MESSAGE(changed.code == 0, changed.err);
    CHECK(cached_steps(changed.err) == "2,4,5,6,7,8,9,");
    CHECK(r.cli({"run", "--rm", "binds:2", "cat", "/copied"}).out == "second\n");
    write(ctx.path() / "Dockerfile", "FROM " + ctr::test::shared_busybox().image + " AS maker\nFROM " + ctr::test::shared_busybox().image + "\nCOPY --from=maker /bin/*.none /x/\n");
    auto unmatched = r.cli({"build", ctx.path().string()});
    CHECK(unmatched.code != 0);
    CHECK_MESSAGE(unmatched.err.find("COPY --from: /bin/*.none: no file matches in") != std::string::npos, unmatched.err);
    write(ctx.path() / "Dockerfile", "FROM " + ctr::test::shared_busybox().image + " AS maker\nFROM " + ctr::test::shared_busybox().image +
                                         "\nRUN --mount=type=bind,from=maker,source=/nothere,target=/x true\n");
    auto absent = r.cli({"build", ctx.path().string()});
    CHECK(absent.code != 0);
    CHECK_MESSAGE(absent.err.find("no /nothere in maker") != std::string::npos, absent.err);
    // A chain of 41 links, past what is followed inside the image, whose last
    // names a host file: refused, never bound.
    write(ctx.path() / "Dockerfile", "FROM " + ctr::test::shared_busybox().image + " AS maker\n"
                                     "RUN ln -s /etc/hostname /l40 && i=40 && while [ $i -gt 0 ]; do ln -s /l$i /l$((i-1)); i=$((i-1)); done\n"
                                     "FROM " + ctr::test::shared_busybox().image + "\nRUN --mount=type=bind,from=maker,source=/l0,target=/x cat /x\n");
    auto outside = r.cli({"build", ctx.path().string()});
    CHECK(outside.code != 0);
    CHECK_MESSAGE(outside.err.find("/l0 leads outside maker") != std::string::npos, outside.err);
}

TEST_CASE("build: RUN --mount (cache kept between builds, tmpfs, a read-only bind of the context, a secret) leaves nothing in the image" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ctr::test::ScratchDir ctx, secrets;
    write(ctx.path() / "input.txt", "from the context\n");
    write(secrets.path() / "token", "s3cret-value\n");
    write(ctx.path() / "Dockerfile",
          "FROM " + ctr::test::shared_busybox().image + "\n"
          "RUN --mount=type=cache,target=/cache sh -c 'echo run >> /cache/log; wc -l < /cache/log > /seen'\n"
          "RUN --mount=type=tmpfs,target=/scratch sh -c 'echo x > /scratch/file && ls /scratch > /tmpfs-saw'\n"
          "RUN --mount=type=bind,source=input.txt,target=/in.txt cat /in.txt > /copied\n"
          "RUN --mount=type=secret,id=token,required cat /run/secrets/token | wc -c > /secret-length\n");
    const std::string secret = "id=token,src=" + (secrets.path() / "token").string();
    auto built = r.cli({"build", "-t", "mounts:1", "--secret", secret, ctx.path().string()});
    REQUIRE_MESSAGE(built.code == 0, built.err);
    CHECK(r.cli({"run", "--rm", "mounts:1", "cat", "/seen", "/tmpfs-saw", "/copied", "/secret-length"}).out == "1\nfile\nfrom the context\n13\n");
    // Nothing of the mounts is in the image: no cache, scratch, input or secret.
    CHECK(r.cli({"run", "--rm", "mounts:1", "ls", "/cache", "/scratch", "/in.txt", "/run/secrets/token"}).code != 0);
    CHECK(r.cli({"run", "--rm", "mounts:1", "ls", "/"}).out.find("cache") == std::string::npos);
    CHECK(r.cli({"image", "inspect", "mounts:1"}).out.find("s3cret") == std::string::npos);
    // The cache folder outlives the build: a build without the step cache sees it.
    auto again = r.cli({"build", "--no-cache", "-t", "mounts:2", "--secret", secret, ctx.path().string()});
    REQUIRE_MESSAGE(again.code == 0, again.err);
    CHECK(r.cli({"run", "--rm", "mounts:2", "cat", "/seen"}).out == "2\n");
    auto missing = r.cli({"build", "--no-cache", ctx.path().string()});
    CHECK(missing.err.find("no secret \"token\" was given") != std::string::npos);
}

TEST_CASE("build: ADD unpacks a local tar (plain or compressed) keeping its owners; other files are copied" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ctr::test::ScratchDir ctx, src;
    write(src.path() / "pkg/bin/tool", "tool\n");
    write(src.path() / "pkg/README", "readme\n");
    auto tarred = ctr::sys::run_capture({"/bin/tar", "-C", src.path().string(), "--owner=5", "--group=6", "-czf",
                                         (ctx.path() / "pkg.tar.gz").string(), "pkg"}, 30000);
    REQUIRE((tarred && tarred->status.code == 0));
    write(ctx.path() / "plain.txt", "plain\n");
    write(ctx.path() / "Dockerfile",
          "FROM " + ctr::test::shared_busybox().image + "\n"
          "ADD pkg.tar.gz /opt\n"
          "ADD --chown=9:9 pkg.tar.gz /owned/\n"
          "ADD plain.txt /plain.txt\n");
    auto built = r.cli({"build", "-t", "added:1", ctx.path().string()});
    REQUIRE_MESSAGE(built.code == 0, built.err);
    CHECK(r.cli({"run", "--rm", "added:1", "cat", "/opt/pkg/bin/tool", "/opt/pkg/README", "/plain.txt"}).out == "tool\nreadme\nplain\n");
    CHECK(r.cli({"run", "--rm", "added:1", "busybox", "stat", "-c", "%u:%g", "/opt/pkg/README", "/owned/pkg/README"}).out == "5:6\n9:9\n");
    CHECK(r.cli({"run", "--rm", "added:1", "ls", "/opt"}).out == "pkg\n");  // unpacked, not the archive
}

namespace {

// Waits (up to 30 s) until `ps -a` lists a container: the build's step.
bool step_container_appears(const DaemonRoot& r) {
    for (int i = 0; i < 300; ++i) {
        if (!r.cli({"ps", "-a", "-q"}).out.empty()) return true;
        ::usleep(100000);
    }
    return false;
}

}  // namespace

TEST_CASE("build: Ctrl-C and kill -9 of the daemon mid-RUN leave no container, no scratch file and no cache entry" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ctr::test::ScratchDir ctx;
    write(ctx.path() / "Dockerfile", "FROM " + ctr::test::shared_busybox().image + "\nRUN echo done-before > /before\nRUN sleep 30\n");
    // Ctrl-C: the CLI goes, the daemon notices within a second and ends the step.
    const std::string cli = std::string(std::getenv("CTR_BUILD_ROOT")) + "/host/container";
    std::thread interrupted([&] {
        (void)ctr::sys::run_capture({"/usr/bin/timeout", "-s", "INT", "4", cli, "--root", r.root(), "build", ctx.path().string()}, 60000);
    });
    REQUIRE(step_container_appears(r));
    interrupted.join();
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i, ::usleep(100000)) gone = r.cli({"ps", "-a", "-q"}).out.empty();
    CHECK(gone);
    CHECK(r.cli({"builder", "du"}).out.rfind("1 cached steps", 0) == 0);  // the first RUN, not the interrupted one

    // kill -9 of the daemon: its next start removes what the build held.
    std::thread killed([&] { (void)r.cli({"build", ctx.path().string()}); });
    REQUIRE(step_container_appears(r));
    r.kill9();
    killed.join();
    r.start();
    CHECK(r.cli({"ps", "-a", "-q"}).out.empty());
    CHECK(r.cli({"builder", "du"}).out.rfind("1 cached steps", 0) == 0);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(r.path() / "var/lib/container/build", ec))
        CHECK_MESSAGE(e.path().filename() == "cache-mounts", e.path().string());
}

TEST_CASE("build: a Dockerfile of 1 MiB, and a context of 100k files of which COPY reads one" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ctr::test::ScratchDir ctx;
    std::string big = "FROM " + ctr::test::shared_busybox().image + "\n";
    while (big.size() < (size_t{1} << 20)) big += "# padding padding padding padding padding padding padding padding padding\n";
    big += "LABEL size=large\nCOPY one.txt /one.txt\n";
    write(ctx.path() / "Dockerfile", big);
    write(ctx.path() / "one.txt", "one\n");
    fs::create_directories(ctx.path() / "many");
    for (int i = 0; i < 100000; ++i) std::ofstream(ctx.path() / "many" / std::to_string(i));
    auto built = r.cli({"build", "-t", "big:1", ctx.path().string()});
    REQUIRE_MESSAGE(built.code == 0, built.err);
    CHECK(r.cli({"run", "--rm", "big:1", "cat", "/one.txt"}).out == "one\n");
    CHECK(r.cli({"image", "inspect", "-f", "{{index .Config.Labels \"size\"}}", "big:1"}).out == "large\n");
}

TEST_CASE("build: -o writes an OCI archive, a tar or a folder of the result; --platform other than the host's is refused; the cache outlives a restart" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ctr::test::ScratchDir ctx, out;
    write(ctx.path() / "Dockerfile", "FROM " + ctr::test::shared_busybox().image + "\nRUN echo made > /made.txt\n");
    auto oci = r.cli({"build", "-o", "type=oci,dest=" + (out.path() / "image.tar").string(), ctx.path().string()});
    REQUIRE_MESSAGE(oci.code == 0, oci.err);
    auto listed = ctr::sys::run_capture({"/bin/tar", "-tf", (out.path() / "image.tar").string()}, 30000);
    CHECK((listed && listed->out.find("index.json") != std::string::npos));
    REQUIRE(r.cli({"build", "-o", "type=tar,dest=" + (out.path() / "fs.tar").string(), ctx.path().string()}).code == 0);
    listed = ctr::sys::run_capture({"/bin/tar", "-tf", (out.path() / "fs.tar").string()}, 30000);
    CHECK((listed && listed->out.find("made.txt") != std::string::npos));
    REQUIRE(r.cli({"build", "-o", (out.path() / "folder").string(), ctx.path().string()}).code == 0);
    auto made = ctr::sys::read_file(out.path() / "folder/made.txt");
    CHECK((made && *made == "made\n"));
    CHECK(fs::exists(out.path() / "folder/bin/busybox"));
    auto arm = r.cli({"build", "--platform", "linux/arm64", ctx.path().string()});
    CHECK(arm.err.find("platform \"linux/arm64\": only this host's, linux/amd64, can be built") != std::string::npos);
    REQUIRE(r.cli({"system", "stop"}).code == 0);
    auto again = r.cli({"build", ctx.path().string()});
    CHECK(cached_steps(again.err) == "2,");
}

TEST_CASE("build: ADD of a URL downloads the file (mode 0600, never unpacked); a failed download names the URL" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ctr::test::ScratchDir ctx, site;
    write(site.path() / "files/data.txt", "served\n");
    auto tarred = ctr::sys::run_capture({"/bin/tar", "-C", site.path().string(), "-czf", (site.path() / "files/pkg.tar.gz").string(), "files/data.txt"}, 30000);
    REQUIRE((tarred && tarred->status.code == 0));
    int port = 0;
    pid_t server = -1;
    for (int attempt = 0; attempt < 5 && port == 0; ++attempt) {
        int p = 42000 + static_cast<int>(::getpid() % 1000) * 7 + attempt;
        auto spawned = ctr::sys::spawn({"/usr/bin/python3", "-m", "http.server", std::to_string(p), "--bind", "127.0.0.1", "--directory",
                                        site.path().string()}, {});
        REQUIRE(spawned.has_value());
        for (int i = 0; i < 50; ++i, ::usleep(100000)) {
            auto probe = ctr::sys::run_capture({"/usr/bin/python3", "-c", "import socket; socket.create_connection(('127.0.0.1', " + std::to_string(p) + "), 1)"}, 5000);
            if (probe && probe->status.code == 0) {
                port = p;
                server = *spawned;
                break;
            }
        }
        if (port == 0) ::kill(*spawned, SIGKILL);
    }
    // The server goes however the test ends (by its PID, ours).
    struct Stop {
        pid_t pid;
        ~Stop() {
            ::kill(pid, SIGTERM);
            ::waitpid(pid, nullptr, 0);
        }
    } stop{server};
    REQUIRE(port != 0);
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/files/";
    write(ctx.path() / "Dockerfile", "FROM " + ctr::test::shared_busybox().image + "\nADD " + url + "data.txt /fetched/\nADD " + url + "pkg.tar.gz /pkg.tar.gz\nADD " + url + "data.txt /renamed.txt\n");
    auto built = r.cli({"build", "-t", "fetched:1", ctx.path().string()});
    CHECK_MESSAGE(built.code == 0, built.err);
    CHECK(r.cli({"run", "--rm", "fetched:1", "cat", "/fetched/data.txt", "/renamed.txt"}).out == "served\nserved\n");
    CHECK(r.cli({"run", "--rm", "fetched:1", "busybox", "stat", "-c", "%a %F", "/fetched/data.txt", "/pkg.tar.gz"}).out == "600 regular file\n600 regular file\n");
    write(ctx.path() / "Dockerfile", "FROM " + ctr::test::shared_busybox().image + "\nADD " + url + "missing.txt /x\n");
    auto missing = r.cli({"build", ctx.path().string()});
    CHECK(missing.err.find("ADD " + url + "missing.txt: ") != std::string::npos);
}

TEST_CASE("build: builder du counts each layer once and apart from what images share; system df has a build cache row; image prune -a leaves the cache" *
          CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ctr::test::ScratchDir ctx;
    write(ctx.path() / "Dockerfile", "FROM " + ctr::test::shared_busybox().image + "\n"
                                     "RUN head -c 1048576 /dev/urandom > /a\n"
                                     "RUN head -c 1048576 /dev/urandom > /b\n"
                                     "RUN head -c 1048576 /dev/urandom > /c\n");
    auto built = r.cli({"build", "-q", "-t", "du:1", ctx.path().string()});
    REQUIRE_MESSAGE(built.code == 0, built.err);
    auto json_of = [](const std::string& s) { return nlohmann::json::parse(s, nullptr, false); };
    auto images = json_of(r.cli({"image", "ls", "--format", "json"}).out);
    REQUIRE(images.is_array());
    int64_t base = -1;
    for (const auto& i : images)
        if (i.dump().find("busybox") != std::string::npos) base = i.value("size", int64_t{-1});
    REQUIRE(base > 0);
    auto du = json_of(r.cli({"builder", "du", "--format", "json"}).out);
    REQUIRE(du.is_object());
    CHECK(du["entries"] == 3);
    // The three steps' images hold the base and 1, 2 and 3 MiB: each layer once is
    // the base and 3 MiB (counted per image it would be three bases and 6 MiB).
    const int64_t mib = 1 << 20;
    CHECK(du["size"].get<int64_t>() > base + 3 * mib);
    CHECK(du["size"].get<int64_t>() < base + 3 * mib + 256 * 1024);
    // du:1 holds every layer: the cache's own bytes are its configs and manifests.
    CHECK(du["own"].get<int64_t>() < 64 * 1024);
    auto text = r.cli({"builder", "du"});
    CHECK_MESSAGE(text.out.rfind("3 cached steps, ", 0) == 0, text.out);
    CHECK(text.out.find(" MiB") != std::string::npos);
    auto df = json_of(r.cli({"system", "df", "--format", "json"}).out);
    REQUIRE(df.is_array());
    REQUIRE(df.size() == 4);
    CHECK(df[0]["type"] == "images");
    CHECK(df[0]["total"] == 2);  // busybox and du:1, not the cached steps
    CHECK(df[3]["type"] == "build cache");
    CHECK(df[3]["total"] == 3);
    CHECK(df[3]["size"] == du["size"]);
    // Without du:1 its three layers are the cache's own; a prune -a of images leaves them.
    REQUIRE(r.cli({"image", "rm", "du:1"}).code == 0);
    REQUIRE(r.cli({"image", "prune", "-a", "-f"}).code == 0);
    du = json_of(r.cli({"builder", "du", "--format", "json"}).out);
    CHECK(du["entries"] == 3);
    CHECK(du["own"].get<int64_t>() > 3 * mib);
    auto pruned = r.cli({"builder", "prune", "-f"});
    CHECK(pruned.out.find("removed 3 cached steps") != std::string::npos);
    CHECK(json_of(r.cli({"builder", "du", "--format", "json"}).out)["entries"] == 0);
}

TEST_CASE("build: a tar on stdin is the context (plain or gzip, -f inside it, its .dockerignore applied); a Dockerfile on stdin still builds" *
          CTR_NEEDS_ROOT) {
    DaemonRoot r;
    ctr::test::ScratchDir ctx, out;
    write(ctx.path() / "sub/Build.file", "FROM " + ctr::test::shared_busybox().image + "\nCOPY . /ctx/\nCMD [\"ls\", \"/ctx\"]\n");
    write(ctx.path() / "data.txt", "data\n");
    write(ctx.path() / "skip.log", "ignored\n");
    write(ctx.path() / ".dockerignore", "*.log\n");
    write(ctx.path() / "Dockerfile", "FROM " + ctr::test::shared_busybox().image + "\nCOPY data.txt /\nCMD [\"cat\", \"/data.txt\"]\n");
    // The CLI's temporary copy of the context goes in a folder of the test's.
    fs::create_directories(out.path() / "tmp");
    const std::string cli = "TMPDIR=" + (out.path() / "tmp").string() + " " + (ctr::test::build_root() / "host/container").string() + " --root " + r.root();
    auto sh = [](const std::string& script) {
        auto res = ctr::sys::run_capture({"/bin/sh", "-c", script}, ctr::sys::RunOptions{120000, true, {}});
        REQUIRE(res.has_value());
        return *res;
    };
    const std::string plain = (out.path() / "ctx.tar").string(), gz = (out.path() / "ctx.tgz").string();
    REQUIRE(sh("tar -C " + ctx.path().string() + " -cf " + plain + " .").status.code == 0);
    REQUIRE(sh("tar -C " + ctx.path().string() + " -czf " + gz + " .").status.code == 0);
    auto from_tar = sh(cli + " build -q -t tarctx:1 - < " + plain);
    REQUIRE_MESSAGE(from_tar.status.code == 0, from_tar.err);
    CHECK(r.cli({"run", "--rm", "tarctx:1"}).out == "data\n");
    auto from_gz = sh(cli + " build -q -t tarctx:2 -f sub/Build.file - < " + gz);
    REQUIRE_MESSAGE(from_gz.status.code == 0, from_gz.err);
    CHECK(r.cli({"run", "--rm", "tarctx:2"}).out == "Dockerfile\ndata.txt\nsub\n");  // no skip.log
    auto missing = sh(cli + " build -f nothere - < " + plain);
    CHECK(missing.status.code == 125);
    CHECK_MESSAGE(missing.err.find("Cannot locate specified Dockerfile: nothere") != std::string::npos, missing.err);
    auto outside = sh(cli + " build -f ../../etc/passwd - < " + plain);
    CHECK(outside.status.code == 125);
    CHECK_MESSAGE(outside.err.find("must be a path inside the context") != std::string::npos, outside.err);
    auto dockerfile = sh("printf 'FROM " + ctr::test::shared_busybox().image + "\\nCMD [\"echo\", \"from stdin\"]\\n' | " + cli + " build -q -t stdin:1 -");
    REQUIRE_MESSAGE(dockerfile.status.code == 0, dockerfile.err);
    CHECK(r.cli({"run", "--rm", "stdin:1"}).out == "from stdin\n");
    // The temporary copy of the context is gone, and so is the unpacked one.
    CHECK(fs::is_empty(out.path() / "tmp"));
    CHECK(sh("ls " + (r.path() / "var/lib/container/build").string() + " | grep -c context-").out == "0\n");
}
