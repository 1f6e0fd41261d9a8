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
#include <ctime>
#include <future>
#include <sstream>
#include <thread>

using ctr::test::DaemonRoot;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

ctr::test::BusyboxRegistry& docker_busybox() {
    static ctr::test::BusyboxRegistry s(
        "for a in tty stty cat httpd wget; do ln -sf busybox bin/$a; done && mkdir -p www && echo page-from-web > www/index.html");
    return s;
}

using ctr::test::docker_cli;

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

    auto run = docker(r, {"run", "-d", "--name", "web", "-l", "tier=front", docker_busybox().image, "sleep", "600"});
    REQUIRE_MESSAGE(run.code == 0, run.err);
    const std::string id = run.out.substr(0, run.out.find('\n'));
    CHECK(id.size() == 64);
    CHECK(docker(r, {"ps", "--format", "{{.Names}} {{.Image}} {{.Label \"tier\"}}"}).out == "web " + docker_busybox().image + " front\n");
    CHECK(docker(r, {"ps", "--no-trunc", "--format", "{{.Command}}"}).out == "\"sleep 600\"\n");
    CHECK(docker(r, {"inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.Name}}", "web"}).out == "running true /web\n");
    auto whole = docker(r, {"inspect", "web"});
    CHECK_MESSAGE(whole.code == 0, whole.err);
    auto parsed = json::parse(whole.out, nullptr, false);
    REQUIRE_MESSAGE(parsed.is_array(), whole.out);
    REQUIRE(parsed.size() == 1);
    CHECK(parsed[0]["Id"] == id);
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

    CHECK(docker(r, {"images", "--format", "{{.Repository}}:{{.Tag}}"}).out == docker_busybox().image + "\n");

    // logs: stdout and stderr apart, through Docker's framing; --tail; -f to the end.
    REQUIRE(docker(r, {"run", "-d", "--name", "talk", docker_busybox().image, "sh", "-c", "echo out1; echo err1 >&2; echo out2; sleep 1; echo last"}).code == 0);
    auto followed = docker(r, {"logs", "-f", "talk"});
    CHECK(followed.code == 0);
    CHECK(followed.out == "out1\nout2\nlast\n");
    CHECK(followed.err == "err1\n");
    CHECK(docker(r, {"logs", "--tail", "1", "talk"}).out == "last\n");
    CHECK(docker(r, {"rm", "talk"}).code == 0);

    // docker run in the foreground: attach, start, wait for the next exit;
    // its output on our stdout and stderr, its exit code ours; --rm takes it.
    auto fg = docker(r, {"run", "--rm", docker_busybox().image, "sh", "-c", "echo hello; echo oops >&2; exit 3"});
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
    const std::string env = docker_env(r), image = docker_busybox().image;
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
    // docker (API 1.41) sizes an exec's terminal by a resize after its start:
    // a process may look before it lands (a new pty is 0 0), as under
    // dockerd. It waits for the size, with a deadline.
    auto exec_tty = ctr::test::in_terminal(
        r, env + "$D exec -it box sh -c 'tty; i=0; while [ $i -lt 100 ] && [ \"$(stty size)\" = \"0 0\" ]; do sleep 0.1; i=$((i+1)); done; stty size'");
    INFO(exec_tty.out);
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
    // stats (two readings a second apart, as docker's CPU % needs) and top.
    auto stats = docker(r, {"stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}} {{.MemUsage}}", "box"});
    CHECK_MESSAGE(stats.code == 0, stats.err);
    CHECK(stats.out.rfind("box ", 0) == 0);
    CHECK(stats.out.find("B / ") != std::string::npos);
    auto top = docker(r, {"top", "box"});
    CHECK_MESSAGE(top.code == 0, top.err);
    CHECK(top.out.find("sleep 600") != std::string::npos);
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
    REQUIRE(docker(r, {"run", "-d", "--name", "files", docker_busybox().image, "sleep", "600"}).code == 0);

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

namespace {

std::string compose_file(const std::string& image, const std::string& mark) {
    return "version: \"3\"\n"
           "services:\n"
           "  web:\n"
           "    image: " + image + "\n"
           "    command: [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
           "    ports: [\"8080\"]\n"
           "  data:\n"
           "    image: " + image + "\n"
           "    command: [\"sh\", \"-c\", \"echo stored-$$MARK > /data/x; sleep 600\"]\n"
           "    environment: {MARK: " + mark + "}\n"
           "    volumes: [\"store:/data\"]\n"
           "  client:\n"
           "    image: " + image + "\n"
           "    depends_on: [web]\n"
           "    command: [\"sh\", \"-c\", \"until wget -qO- http://web:8080/ > /tmp/page; do sleep 0.2; done; cat /tmp/page; sleep 600\"]\n"
           "    networks: [default, back]\n"  // compose joins the second with POST /networks/ID/connect
           "volumes:\n"
           "  store: {}\n"
           "networks:\n"
           "  back: {}\n";
}

}  // namespace

TEST_CASE("docker-compose 1.29 runs a three-service project: a published port, a named volume, depends_on, service-name DNS, "
          "a changed service recreated, down -v leaving nothing" *
          doctest::skip(ctr::test::not_root() || no_docker_cli() || !fs::exists("/usr/bin/docker-compose"))) {
    DaemonRoot r;
    r.start();
    ctr::test::ScratchDir work;
    const fs::path file = work.path() / "docker-compose.yml";
    REQUIRE(ctr::sys::write_file_atomic(file, compose_file(docker_busybox().image, "one"), 0644));
    const std::string compose = docker_env(r) + "cd " + work.path().string() + " && docker-compose -p proj ";

    auto up = ctr::test::shell(r, compose + "up -d 2>&1");
    REQUIRE_MESSAGE(up.code == 0, up.out << r.daemon_log());
    auto names = docker(r, {"ps", "--format", "{{.Names}}"}).out;
    for (const char* n : {"proj_web_1", "proj_data_1", "proj_client_1"}) CHECK_MESSAGE(names.find(n) != std::string::npos, names);
    auto ps = ctr::test::shell(r, compose + "ps");
    CHECK(ps.out.find("proj_web_1") != std::string::npos);

    // The published port, found as compose finds it, serves the page.
    auto port = ctr::test::shell(r, compose + "port web 8080");
    REQUIRE_MESSAGE(port.code == 0, port.out << port.err);
    const std::string host_port = port.out.substr(port.out.rfind(':') + 1, port.out.find_last_not_of("\n") - port.out.rfind(':'));
    auto page = ctr::test::shell(r, "bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + host_port + "; printf \"GET / HTTP/1.0\\r\\n\\r\\n\" >&3; cat <&3'");
    CHECK_MESSAGE(page.out.find("page-from-web") != std::string::npos, page.out << page.err);
    // The client reached web by its service name.
    std::string logs;
    for (int i = 0; i < 100 && logs.find("page-from-web") == std::string::npos; ++i) {
        logs = ctr::test::shell(r, compose + "logs --no-color client").out;
        if (logs.find("page-from-web") == std::string::npos) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    CHECK_MESSAGE(logs.find("page-from-web") != std::string::npos, logs);
    CHECK(docker(r, {"exec", "proj_data_1", "cat", "/data/x"}).out == "stored-one\n");
    auto client_nets = docker(r, {"inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", "proj_client_1"});
    CHECK(client_nets.out == "proj_back proj_default \n");
    CHECK(docker(r, {"exec", "proj_client_1", "cat", "/proc/net/dev"}).out.find("eth1:") != std::string::npos);

    // A changed service is recreated; the others are left as they run.
    const std::string web_id = docker(r, {"inspect", "-f", "{{.Id}}", "proj_web_1"}).out;
    const std::string data_id = docker(r, {"inspect", "-f", "{{.Id}}", "proj_data_1"}).out;
    REQUIRE(ctr::sys::write_file_atomic(file, compose_file(docker_busybox().image, "two"), 0644));
    auto again = ctr::test::shell(r, compose + "up -d 2>&1");
    CHECK_MESSAGE(again.code == 0, again.out);
    CHECK(again.out.find("Recreating proj_data_1") != std::string::npos);
    CHECK(docker(r, {"inspect", "-f", "{{.Id}}", "proj_web_1"}).out == web_id);
    CHECK(docker(r, {"inspect", "-f", "{{.Id}}", "proj_data_1"}).out != data_id);
    std::string stored;
    for (int i = 0; i < 50 && stored != "stored-two\n"; ++i) {
        stored = docker(r, {"exec", "proj_data_1", "cat", "/data/x"}).out;
        if (stored != "stored-two\n") std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(stored == "stored-two\n");

    auto down = ctr::test::shell(r, compose + "down -v 2>&1");
    CHECK_MESSAGE(down.code == 0, down.out);
    CHECK(docker(r, {"ps", "-a", "-q"}).out.empty());
    CHECK(r.cli({"network", "ls", "-q"}).out.find("proj_default") == std::string::npos);
    CHECK(r.cli({"volume", "ls", "-q"}).out.find("proj_store") == std::string::npos);
}

TEST_CASE("docker network, volume and ps --filter commands through our socket" * doctest::skip(ctr::test::not_root() || no_docker_cli())) {
    DaemonRoot r;
    r.start();
    const std::string image = docker_busybox().image;
    // The default network is Docker's bridge: not removed, with Docker's words.
    auto bridge = docker(r, {"network", "rm", "bridge"});
    CHECK(bridge.code != 0);
    CHECK_MESSAGE(bridge.err.find("bridge is a pre-defined network and cannot be removed") != std::string::npos, bridge.err);
    auto made = docker(r, {"network", "create", "--label", "team=blue", "blue-net"});
    REQUIRE_MESSAGE(made.code == 0, made.err);
    const std::string net_id = made.out.substr(0, made.out.find('\n'));
    CHECK(net_id.size() == 64);
    CHECK(docker(r, {"network", "ls", "--filter", "label=team=blue", "--format", "{{.Name}}"}).out == "blue-net\n");
    CHECK(docker(r, {"network", "inspect", "-f", "{{.Id}}", "blue-net"}).out == net_id + "\n");
    CHECK(docker(r, {"network", "inspect", "-f", "{{.Name}}", net_id.substr(0, 12)}).out == "blue-net\n");
    CHECK(docker(r, {"network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", "blue-net"}).out.find("/24") != std::string::npos);
    auto dup = docker(r, {"network", "create", "blue-net"});
    CHECK(dup.code != 0);
    CHECK(dup.err.find("already exists") != std::string::npos);

    auto vol = docker(r, {"volume", "create", "--label", "keep=yes", "vol1"});
    REQUIRE_MESSAGE(vol.code == 0, vol.err);
    CHECK(docker(r, {"volume", "ls", "-q", "--filter", "label=keep=yes"}).out == "vol1\n");
    const std::string mountpoint = docker(r, {"volume", "inspect", "-f", "{{.Mountpoint}}", "vol1"}).out;
    REQUIRE(docker(r, {"run", "-d", "--name", "member", "--network", "blue-net", "-v", "vol1:/v", "-l", "role=member", image, "sh", "-c",
                       "echo kept > /v/f; sleep 600"})
                .code == 0);
    REQUIRE(docker(r, {"run", "--name", "done", "-l", "role=done", image, "sh", "-c", "exit 7"}).code == 7);
    CHECK(docker(r, {"network", "inspect", "-f", "{{len .Containers}}", "blue-net"}).out == "1\n");
    REQUIRE(docker(r, {"network", "create", "red-net"}).code == 0);
    auto joined = docker(r, {"network", "connect", "--alias", "m2", "red-net", "member"});
    CHECK_MESSAGE(joined.code == 0, joined.err);
    CHECK(docker(r, {"exec", "member", "cat", "/proc/net/dev"}).out.find("eth1:") != std::string::npos);
    CHECK(docker(r, {"inspect", "-f", "{{index .NetworkSettings.Networks \"red-net\" \"Aliases\"}}", "member"}).out.find("m2") != std::string::npos);
    auto twice = docker(r, {"network", "connect", "red-net", "member"});
    CHECK(twice.code != 0);
    CHECK(twice.err.find("already connected") != std::string::npos);
    CHECK(docker(r, {"network", "disconnect", "red-net", "member"}).code == 0);
    CHECK(docker(r, {"inspect", "-f", "{{len .NetworkSettings.Networks}}", "member"}).out == "1\n");
    CHECK(docker(r, {"network", "rm", "red-net"}).code == 0);
    CHECK(docker(r, {"ps", "--filter", "network=blue-net", "--format", "{{.Names}}"}).out == "member\n");
    CHECK(docker(r, {"ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}"}).out == "done\n");
    CHECK(docker(r, {"ps", "-a", "--filter", "exited=7", "--format", "{{.Names}}"}).out == "done\n");
    CHECK(docker(r, {"ps", "-a", "--filter", "label=role", "--format", "{{.Names}}"}).out == "done\nmember\n");
    CHECK(docker(r, {"ps", "-a", "--filter", "name=mem", "--filter", "volume=vol1", "--format", "{{.Names}}"}).out == "member\n");
    CHECK(docker(r, {"ps", "-a", "--filter", "ancestor=" + image, "-q"}).out.size() == 26);  // two 12-digit ids
    CHECK(docker(r, {"ps", "-a", "--filter", "since=member", "--format", "{{.Names}}"}).out == "done\n");
    auto bad = docker(r, {"ps", "--filter", "colour=red"});
    CHECK(bad.code != 0);
    CHECK(bad.err.find("invalid filter 'colour'") != std::string::npos);

    std::string kept;
    for (int i = 0; i < 50 && kept.empty(); ++i) {
        kept = read_or_empty(fs::path(mountpoint.substr(0, mountpoint.size() - 1)) / "f");
        if (kept.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(kept == "kept\n");
    auto busy = docker(r, {"volume", "rm", "vol1"});
    CHECK(busy.code != 0);
    auto busy_net = docker(r, {"network", "rm", "blue-net"});
    CHECK(busy_net.code != 0);
    CHECK(docker(r, {"rm", "-f", "member", "done"}).code == 0);
    CHECK(docker(r, {"volume", "rm", "vol1"}).code == 0);
    CHECK(docker(r, {"network", "rm", "blue-net"}).code == 0);
    CHECK(docker(r, {"volume", "ls", "-q"}).out.empty());
    auto gone = docker(r, {"volume", "inspect", "vol1"});
    CHECK(gone.code != 0);
    CHECK_MESSAGE(gone.err.find("o such volume") != std::string::npos, gone.err);
}

TEST_CASE("docker tag, push, rmi, history, save and load, images --filter, through our socket" *
          doctest::skip(ctr::test::not_root() || no_docker_cli())) {
    DaemonRoot r;
    r.start();
    const std::string image = docker_busybox().image;
    const std::string copy = docker_busybox().registry.host() + "/test/copy:2";
    REQUIRE(docker(r, {"pull", "-q", image}).code == 0);
    auto tagged = docker(r, {"tag", image, copy});
    CHECK_MESSAGE(tagged.code == 0, tagged.err);
    CHECK(docker(r, {"images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=" + copy}).out == copy + "\n");
    auto pushed = docker(r, {"push", copy});
    CHECK_MESSAGE(pushed.code == 0, pushed.err << pushed.out);
    CHECK(pushed.out.find("digest: sha256:") != std::string::npos);
    CHECK(docker(r, {"history", image}).code == 0);

    auto removed = docker(r, {"rmi", copy});
    CHECK_MESSAGE(removed.code == 0, removed.err);
    CHECK(removed.out.find("Untagged: " + copy) != std::string::npos);
    // What we pushed is in the registry: pulled back by name.
    CHECK(docker(r, {"pull", "-q", copy}).code == 0);
    CHECK(docker(r, {"rmi", copy}).code == 0);

    ctr::test::ScratchDir work;
    const std::string archive = (work.path() / "saved.tar").string();
    auto saved = docker(r, {"save", "-o", archive, image});
    CHECK_MESSAGE(saved.code == 0, saved.err);
    CHECK(fs::file_size(archive) > 100000);
    REQUIRE(docker(r, {"create", "--name", "holder", image, "true"}).code == 0);
    auto in_use = docker(r, {"rmi", image});
    CHECK(in_use.code != 0);
    CHECK(in_use.err.find("must force") != std::string::npos);
    CHECK(docker(r, {"rm", "holder"}).code == 0);
    CHECK(docker(r, {"rmi", image}).code == 0);
    CHECK(docker(r, {"images", "-q"}).out.empty());
    auto loaded = docker(r, {"load", "-i", archive});
    CHECK_MESSAGE(loaded.code == 0, loaded.err);
    CHECK(loaded.out.find("Loaded image: " + image) != std::string::npos);
    // Loaded, it runs with the registry out of the way.
    auto ran = docker(r, {"run", "--rm", "--pull", "never", image, "echo", "from-load"});
    CHECK_MESSAGE(ran.out == "from-load\n", ran.err);
    auto missing = docker(r, {"rmi", "nothing/here:1"});
    CHECK(missing.code != 0);
    CHECK(missing.err.find("No such image") != std::string::npos);
}

TEST_CASE("events: docker events and container events see containers, images, networks and volumes, live and since" *
          doctest::skip(ctr::test::not_root() || no_docker_cli())) {
    DaemonRoot r;
    r.start();
    const std::string env = docker_env(r), image = docker_busybox().image;
    const std::string t0 = std::to_string(std::time(nullptr) - 1);
    // Live: a follower started first sees what happens after it, up to --until.
    auto live = std::async(std::launch::async, [&] {
        return ctr::test::shell(r, "$CTR events --filter type=volume --until $(( $(date +%s) + 4 ))");
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    REQUIRE(docker(r, {"volume", "create", "ev-vol"}).code == 0);
    REQUIRE(docker(r, {"pull", "-q", image}).code == 0);
    REQUIRE(docker(r, {"run", "--rm", "--name", "ev", "-l", "team=red", image, "sh", "-c", "exit 3"}).code == 3);
    REQUIRE(docker(r, {"network", "create", "ev-net"}).code == 0);
    REQUIRE(docker(r, {"volume", "rm", "ev-vol"}).code == 0);
    const std::string t1 = std::to_string(std::time(nullptr) + 1);
    auto followed = live.get();
    CHECK_MESSAGE(followed.code == 0, followed.err);
    CHECK(followed.out.find(" volume create ev-vol ") != std::string::npos);
    CHECK(followed.out.find(" volume destroy ev-vol ") != std::string::npos);
    CHECK(followed.out.find("container") == std::string::npos);

    // History: --since/--until end by themselves; Docker's shape, filtered.
    auto seen = docker(r, {"events", "--since", t0, "--until", t1, "--filter", "container=ev", "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.team}}"});
    CHECK_MESSAGE(seen.code == 0, seen.err);
    CHECK(seen.out == "container create red\ncontainer start red\ncontainer die red\ncontainer destroy red\n");
    auto died = docker(r, {"events", "--since", t0, "--until", t1, "--filter", "event=die", "--format", "{{.Actor.Attributes.exitCode}} {{.From}}"});
    CHECK(died.out == "3 " + image + "\n");
    auto kinds = docker(r, {"events", "--since", t0, "--until", t1, "--filter", "type=image", "--filter", "type=network", "--format", "{{.Type}} {{.Action}}"});
    CHECK(kinds.out.find("image pull") != std::string::npos);
    CHECK(kinds.out.find("network create") != std::string::npos);
    auto ours = r.cli({"events", "--since", t0, "--until", t1, "--format", "json", "--filter", "label=team=red"});
    CHECK(ours.code == 0);
    int lines = 0;
    std::istringstream in(ours.out);
    for (std::string line; std::getline(in, line); ++lines) CHECK(json::parse(line)["attributes"]["name"] == "ev");
    CHECK(lines == 4);
    auto bad = r.cli({"events", "--filter", "colour=red"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("invalid filter 'colour'") != std::string::npos);
}

TEST_CASE("docker-py: the SDK's flows, its multiplexed streams, and bad input answered while the daemon keeps serving" *
          doctest::skip(ctr::test::not_root() || !fs::exists("/usr/lib/python3/dist-packages/docker"))) {
    DaemonRoot r;
    r.start();
    const char* source = std::getenv("CTR_SOURCE_ROOT");  // set by meson test
    REQUIRE(source != nullptr);
    const std::string script = (fs::path(source) / "tests/fixtures/docker-py/flows.py").string();
    auto res = ctr::test::shell(r, docker_env(r) + "IMAGE=" + docker_busybox().image + " /usr/bin/python3 " + script + " 2>&1");
    CHECK_MESSAGE(res.code == 0, res.out << r.daemon_log());
    CHECK(res.out.find("ok\n") != std::string::npos);
}

TEST_CASE("docker export, logs --timestamps/--since/--until, container, image and system prune, plugin ls, through our socket" *
          doctest::skip(ctr::test::not_root() || no_docker_cli())) {
    DaemonRoot r;
    r.start();
    const std::string image = docker_busybox().image;
    REQUIRE(docker(r, {"run", "--name", "talker", image, "sh", "-c", "echo first; sleep 2; echo second >&2; sleep 1; echo third"}).code == 0);

    // export: the whole filesystem as a tar.
    ctr::test::ScratchDir work;
    auto exported = ctr::test::shell(r, docker_env(r) + "$D export talker > " + (work.path() / "fs.tar").string() + " && tar -tf " +
                                            (work.path() / "fs.tar").string() + " | grep -x -e bin/busybox -e etc/hostname | sort");
    CHECK_MESSAGE(exported.out == "bin/busybox\netc/hostname\n", exported.out << exported.err);
    CHECK(docker(r, {"export", "nobody"}).err.find("No such container: nobody") != std::string::npos);

    // Each line behind the time it was written; since and until cut by those times.
    auto stamped = docker(r, {"logs", "--timestamps", "talker"});
    CHECK(stamped.out.size() > 31);
    CHECK_MESSAGE(stamped.out.find("Z first\n") == 29, stamped.out);  // 2026-12-06T00:00:00.123456789Z
    CHECK(stamped.out.find("Z third\n") != std::string::npos);
    CHECK(stamped.err.find("Z second\n") != std::string::npos);
    const std::string first_at = stamped.out.substr(0, 30), third_at = stamped.out.substr(stamped.out.find("Z third") - 29, 30);
    auto since = docker(r, {"logs", "--since", third_at, "talker"});
    CHECK(since.out == "third\n");
    CHECK(since.err.empty());
    auto until = docker(r, {"logs", "--until", first_at, "talker"});
    CHECK(until.out == "first\n");
    CHECK(until.err.empty());
    CHECK(docker(r, {"logs", "--since", "nonsense", "talker"}).code != 0);

    // Prunes: a stopped container, then every image no container uses.
    REQUIRE(docker(r, {"run", "-d", "--name", "keeper", image, "sleep", "300"}).code == 0);
    REQUIRE(docker(r, {"volume", "create", "spare"}).code == 0);
    auto df = docker(r, {"system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}"});
    CHECK_MESSAGE(df.out == "Images 1 1\nContainers 2 1\nLocal Volumes 1 0\nBuild Cache 0 0\n", df.out << df.err);
    auto in_use = docker(r, {"system", "df", "--format", "{{.Type}} {{.Reclaimable}}"});
    CHECK_MESSAGE(in_use.out.rfind("Images 0B (0%)\n", 0) == 0, in_use.out);  // its containers keep it
    auto df_v = docker(r, {"system", "df", "-v"});
    CHECK_MESSAGE(df_v.out.find("talker") != std::string::npos, df_v.out << df_v.err);
    auto pruned = docker(r, {"container", "prune", "-f"});
    CHECK_MESSAGE(pruned.code == 0, pruned.err);
    CHECK(pruned.out.find("Deleted Containers:") != std::string::npos);
    CHECK(docker(r, {"ps", "-a", "--format", "{{.Names}}"}).out == "keeper\n");
    CHECK(docker(r, {"image", "prune", "-f"}).out.find("Total reclaimed space: 0B") != std::string::npos);  // nothing dangles here
    CHECK(docker(r, {"image", "prune", "-a", "-f"}).code == 0);
    CHECK(docker(r, {"images", "-q"}).out.size() == 13);  // keeper's image stays
    REQUIRE(docker(r, {"rm", "-f", "keeper"}).code == 0);
    auto all = docker(r, {"system", "prune", "-a", "-f"});
    CHECK_MESSAGE(all.code == 0, all.err);
    CHECK(all.out.find("Deleted Images:") != std::string::npos);
    CHECK(docker(r, {"images", "-q"}).out.empty());
    auto plugins = docker(r, {"plugin", "ls", "--format", "{{.Name}}"});
    CHECK_MESSAGE(plugins.code == 0, plugins.err);
    CHECK(plugins.out.empty());
    // Swarm's objects and image search: Docker's own refusals, one line each.
    for (const auto& kind : {"service", "secret", "config", "node"}) {
        auto swarm = docker(r, {kind, "ls"});
        CHECK(swarm.code != 0);
        CHECK_MESSAGE(swarm.err.find("This node is not a swarm manager") != std::string::npos, kind << ": " << swarm.err);
    }
    auto search = docker(r, {"search", "busybox"});
    CHECK(search.code != 0);
    CHECK_MESSAGE(search.err.find("image search is not supported") != std::string::npos, search.err);
}
