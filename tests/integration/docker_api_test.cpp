// The Docker Engine API, driven by the real docker CLI (Debian's docker.io;
// only its client: no dockerd ever runs) against <root>/run/container/docker.sock.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"
#include "tests/support/terminal.hpp"

#include "tests/support/skip.hpp"
#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

using ctr::test::DaemonRoot;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

ctr::test::BusyboxRegistry& shared() {
    static ctr::test::BusyboxRegistry s("for a in tty stty cat; do ln -sf busybox bin/$a; done");
    return s;
}

// The docker CLI: Debian's /usr/bin/docker, or the client alone that
// scripts/install-deps.sh takes out of Debian's package.
std::string docker_cli() {
    for (const char* p : {"/usr/bin/docker", "/var/cache/container-tests/docker/docker"})
        if (fs::exists(p)) return p;
    return "";
}

bool no_docker_cli() { return docker_cli().empty(); }

ctr::test::Run docker(const DaemonRoot& r, const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {docker_cli()};
    argv.insert(argv.end(), args.begin(), args.end());
    ctr::sys::RunOptions o;
    o.timeout_ms = 120000;
    o.capture_stderr = true;
    o.env = {"DOCKER_HOST=unix://" + (r.path() / "run/container/docker.sock").string(), "DOCKER_CONFIG=" + (r.path() / "docker-config").string()};
    o.env.insert(o.env.end(), env.begin(), env.end());
    auto res = ctr::sys::run_capture(argv, o);
    REQUIRE_MESSAGE(res.has_value(), (res ? "" : res.error().message));
    ctr::test::Run out;
    out.out = res->out;
    out.err = res->err;
    out.code = res->status.signal ? 128 + res->status.signal : res->status.code;
    return out;
}

// The shell's prefix that points the docker CLI at our socket as $D.
std::string docker_env(const DaemonRoot& r) {
    return "export DOCKER_HOST=unix://" + (r.path() / "run/container/docker.sock").string() + " DOCKER_CONFIG=" +
           (r.path() / "docker-config").string() + " D=" + docker_cli() + "; ";
}

std::string read_or_empty(const fs::path& p) {
    auto text = ctr::sys::read_file(p);
    return text ? *text : "";
}

}  // namespace

TEST_CASE("the docker CLI drives container: version, run -d (pulling), ps, inspect, stop, start, restart, kill, wait, rm, images" *
          doctest::skip(ctr::test::not_root() || no_docker_cli())) {
    DaemonRoot r;
    r.start();
    const std::string socket = (r.path() / "run/container/docker.sock").string();
    CHECK(r.cli({"system", "docker-env"}).out == "export DOCKER_HOST=unix://" + socket + "\n");
    CHECK(json::parse(r.cli({"system", "status", "--format", "json"}).out)["docker_socket"] == socket);
    auto version = docker(r, {"version", "--format", "{{.Server.APIVersion}} {{.Server.Os}}/{{.Server.Arch}}"});
    CHECK_MESSAGE(version.code == 0, version.err);
    CHECK(version.out.rfind("1.41 linux/", 0) == 0);
    CHECK(version.err.find("Unsolicited") == std::string::npos);  // HEAD /_ping has no body

    auto run = docker(r, {"run", "-d", "--name", "web", "-l", "tier=front", shared().image, "sleep", "600"});
    REQUIRE_MESSAGE(run.code == 0, run.err);
    const std::string id = run.out.substr(0, run.out.find('\n'));
    CHECK(id.size() == 64);
    CHECK(docker(r, {"ps", "--format", "{{.Names}} {{.Image}} {{.Label \"tier\"}}"}).out == "web " + shared().image + " front\n");
    CHECK(docker(r, {"inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.Name}}", "web"}).out == "running true /web\n");
    // One model: our own CLI sees the same container.
    CHECK(r.cli({"ls", "-q"}).out.find(id.substr(0, 12)) != std::string::npos);

    CHECK(docker(r, {"stop", "-t", "0", "web"}).out == "web\n");
    CHECK(docker(r, {"inspect", "-f", "{{.State.Status}}", "web"}).out == "exited\n");
    CHECK(docker(r, {"ps", "-q"}).out.empty());
    CHECK(docker(r, {"ps", "-a", "--format", "{{.Names}}"}).out == "web\n");
    CHECK(docker(r, {"start", "web"}).code == 0);
    CHECK(docker(r, {"restart", "-t", "0", "web"}).code == 0);
    CHECK(docker(r, {"inspect", "-f", "{{.State.Status}}", "web"}).out == "running\n");
    CHECK(docker(r, {"kill", "web"}).code == 0);
    CHECK(docker(r, {"wait", "web"}).out == "137\n");
    CHECK(docker(r, {"rm", "web"}).code == 0);
    CHECK(json::parse(r.cli({"ls", "-a", "--format", "json"}).out).empty());

    CHECK(docker(r, {"images", "--format", "{{.Repository}}:{{.Tag}}"}).out == shared().image + "\n");

    // logs: stdout and stderr apart, through Docker's framing; --tail; -f to the end.
    REQUIRE(docker(r, {"run", "-d", "--name", "talk", shared().image, "sh", "-c", "echo out1; echo err1 >&2; echo out2; sleep 1; echo last"}).code == 0);
    auto followed = docker(r, {"logs", "-f", "talk"});
    CHECK(followed.code == 0);
    CHECK(followed.out == "out1\nout2\nlast\n");
    CHECK(followed.err == "err1\n");
    CHECK(docker(r, {"logs", "--tail", "1", "talk"}).out == "last\n");
    CHECK(docker(r, {"rm", "talk"}).code == 0);

    // docker run in the foreground: attach, start, wait for the next exit;
    // its output on our stdout and stderr, its exit code ours; --rm takes it.
    auto fg = docker(r, {"run", "--rm", shared().image, "sh", "-c", "echo hello; echo oops >&2; exit 3"});
    CHECK_MESSAGE(fg.code == 3, fg.err << r.daemon_log());
    CHECK(fg.out == "hello\n");
    CHECK(fg.err.find("oops\n") != std::string::npos);
    CHECK(json::parse(r.cli({"ls", "-a", "--format", "json"}).out).empty());
    auto missing = docker(r, {"rm", "nothing-here"});
    CHECK(missing.code != 0);
    CHECK(missing.err.find("No such container: nothing-here") != std::string::npos);
    auto old = docker(r, {"ps"}, {"DOCKER_API_VERSION=1.12"});
    CHECK(old.code != 0);
}

TEST_CASE("docker run -i and -it, exec (plain, -i, -it, -d) and exec inspect through our socket" *
          doctest::skip(ctr::test::not_root() || no_docker_cli())) {
    DaemonRoot r;
    r.start();
    const std::string env = docker_env(r), image = shared().image;
    REQUIRE(docker(r, {"pull", "-q", image}).code == 0);

    // stdin through the hijacked attach, ended by the client's half-close.
    auto piped = ctr::test::shell(r, env + "printf 'one\\ntwo\\n' | $D run -i --rm " + image + " sh -c 'cat; echo err >&2; exit 5'");
    CHECK_MESSAGE(piped.code == 5, piped.err << r.daemon_log());
    CHECK(piped.out == "one\ntwo\n");
    CHECK(piped.err.find("err\n") != std::string::npos);

    // A terminal of our pty's size (docker's resize after start), our typing, its exit code.
    auto tty = ctr::test::in_terminal(r, env + "$D run --rm -it " + image + " sh -c 'tty; stty size; exit 3'");
    INFO(tty.out);
    CHECK_MESSAGE(tty.code == 3, tty.err);
    const std::string tty_out = ctr::test::without_cr(tty.out);
    CHECK(tty_out.find("/dev/pts/0\n") != std::string::npos);
    CHECK(tty_out.find("33 101\n") != std::string::npos);
    auto typed = ctr::test::in_terminal(r, env + "$D run --rm -it " + image + " sh", "sleep 1; printf 'echo from-typing; exit 6\\n'; sleep 5");
    CHECK_MESSAGE(typed.code == 6, typed.err);
    CHECK(ctr::test::without_cr(typed.out).find("from-typing\n") != std::string::npos);
    CHECK(json::parse(r.cli({"ls", "-a", "--format", "json"}).out).empty());

    REQUIRE(docker(r, {"run", "-d", "--name", "box", image, "sleep", "600"}).code == 0);
    auto plain = docker(r, {"exec", "-e", "WHO=exec", "-w", "/tmp", "box", "sh", "-c", "echo $WHO in $(pwd); echo err >&2; exit 4"});
    CHECK(plain.code == 4);
    CHECK(plain.out == "exec in /tmp\n");
    CHECK(plain.err == "err\n");
    auto fed = ctr::test::shell(r, env + "echo data | $D exec -i box cat");
    CHECK(fed.code == 0);
    CHECK(fed.out == "data\n");
    auto exec_tty = ctr::test::in_terminal(r, env + "$D exec -it box sh -c 'tty; stty size'");
    CHECK(exec_tty.code == 0);
    CHECK(ctr::test::without_cr(exec_tty.out).find("33 101\n") != std::string::npos);
    CHECK(docker(r, {"exec", "-d", "box", "sh", "-c", "echo detached > /tmp/f"}).code == 0);
    std::string got;
    for (int i = 0; i < 50 && got.empty(); ++i) {
        got = docker(r, {"exec", "box", "cat", "/tmp/f"}).out;
        if (got.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(got == "detached\n");
    auto missing = docker(r, {"exec", "box", "no-such-program"});
    CHECK(missing.code == 127);
    auto stopped = docker(r, {"exec", "nothing-here", "true"});
    CHECK(stopped.code != 0);
    CHECK(stopped.err.find("No such container: nothing-here") != std::string::npos);
    CHECK(docker(r, {"rm", "-f", "box"}).code == 0);
}

TEST_CASE("docker cp both ways through the archive routes, a body larger than a JSON request's limit included" *
          doctest::skip(ctr::test::not_root() || no_docker_cli())) {
    DaemonRoot r;
    r.start();
    ctr::test::ScratchDir host;
    const fs::path h = host.path();
    fs::create_directories(h / "tree/inner");
    REQUIRE(ctr::sys::write_file_atomic(h / "a.txt", "hello\n", 0640));
    REQUIRE(ctr::sys::write_file_atomic(h / "tree/inner/deep.txt", "deep\n", 0644));
    std::string big(3 << 20, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) % 251);
    REQUIRE(ctr::sys::write_file_atomic(h / "big.bin", big, 0644));
    REQUIRE(docker(r, {"run", "-d", "--name", "files", shared().image, "sleep", "600"}).code == 0);

    auto in = docker(r, {"cp", (h / "a.txt").string(), "files:/tmp/"});
    CHECK_MESSAGE(in.code == 0, in.err);
    CHECK(docker(r, {"exec", "files", "sh", "-c", "cat /tmp/a.txt; stat -c '%a %u' /tmp/a.txt"}).out == "hello\n640 0\n");
    CHECK(docker(r, {"cp", (h / "tree").string(), "files:/tmp/newdir"}).code == 0);
    CHECK(docker(r, {"exec", "files", "cat", "/tmp/newdir/inner/deep.txt"}).out == "deep\n");
    CHECK(docker(r, {"cp", (h / "big.bin").string(), "files:/tmp/big.bin"}).code == 0);
    CHECK(docker(r, {"exec", "files", "busybox", "wc", "-c", "/tmp/big.bin"}).out.find(std::to_string(big.size())) != std::string::npos);

    auto out = docker(r, {"cp", "files:/etc/passwd", (h / "passwd").string()});
    CHECK_MESSAGE(out.code == 0, out.err);
    CHECK(read_or_empty(h / "passwd").find("app:x:1000:1000:") != std::string::npos);
    CHECK(docker(r, {"cp", "files:/tmp/newdir", (h / "back").string()}).code == 0);
    CHECK(read_or_empty(h / "back/inner/deep.txt") == "deep\n");
    CHECK(docker(r, {"cp", "files:/tmp/big.bin", (h / "big.back").string()}).code == 0);
    CHECK(read_or_empty(h / "big.back") == big);

    auto missing = docker(r, {"cp", "files:/nope", (h / "x").string()});
    CHECK(missing.code != 0);
    CHECK_MESSAGE(missing.err.find("No such container:path: files:/nope") != std::string::npos, missing.err);  // the CLI says it so on 404
    CHECK_FALSE(fs::exists(h / "x"));
    auto not_dir = docker(r, {"cp", (h / "a.txt").string(), "files:/etc/hostname/sub/"});
    CHECK(not_dir.code != 0);
    CHECK(docker(r, {"rm", "-f", "files"}).code == 0);
}
