// What docker users type from habit: the top-level shortcuts (ps, images,
// pull, tag, rmi, ...) and restart, through the CLI end to end.
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include "tests/support/skip.hpp"
#include "tests/support/tempdir.hpp"
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

using ctr::test::DaemonRoot;
using nlohmann::json;

namespace {

using ctr::test::inspect;

}  // namespace

TEST_CASE("ps, images, pull, tag and rmi are the commands docker users expect" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    auto pulled = r.cli({"pull", "--progress", "none", ctr::test::shared_busybox().image});
    CHECK_MESSAGE(pulled.code == 0, pulled.err);
    CHECK(r.cli({"tag", ctr::test::shared_busybox().image, "local/copy:2"}).code == 0);
    auto images = r.cli({"images", "--format", "json"});
    REQUIRE(images.code == 0);
    CHECK(images.out == r.cli({"image", "ls", "--format", "json"}).out);
    CHECK(images.out.find("local/copy:2") != std::string::npos);
    CHECK(r.cli({"rmi", "local/copy:2"}).code == 0);
    CHECK(r.cli({"images", "-q"}).out.find("local/copy") == std::string::npos);

    REQUIRE(r.cli({"run", "-d", "--name", "web", ctr::test::shared_busybox().image, "sleep", "600"}).code == 0);
    auto ps = r.cli({"ps"});
    CHECK(ps.code == 0);
    CHECK(ps.out.find("web") != std::string::npos);
    CHECK(r.cli({"ps", "-q"}).out == r.cli({"ls", "-q"}).out);
    // Shortcuts are words in command position only: a container may be named "images".
    REQUIRE(r.cli({"create", "--name", "images", ctr::test::shared_busybox().image, "true"}).code == 0);
    CHECK(r.cli({"rm", "images"}).code == 0);
    auto help = r.cli({"--help"});
    CHECK(help.out.find("rmi (image rm)") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "web"}).code == 0);
}

TEST_CASE("restart stops a running container and starts it again; a stopped one just starts" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "svc", ctr::test::shared_busybox().image, "sleep", "600"}).code == 0);
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

TEST_CASE("port, history, info, help and kill -a answer as docker's do" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "pub", "-p", "80", "-p", "127.0.0.1::53/udp", ctr::test::shared_busybox().image, "sleep", "600"}).code == 0);
    auto ports = r.cli({"port", "pub"});
    REQUIRE(ports.code == 0);
    const std::string tcp_line = ports.out.substr(0, ports.out.find('\n'));
    CHECK(tcp_line.rfind("80/tcp -> 0.0.0.0:", 0) == 0);
    CHECK(ports.out.find("\n53/udp -> 127.0.0.1:") != std::string::npos);
    CHECK(r.cli({"port", "pub", "80"}).out == tcp_line.substr(tcp_line.find("-> ") + 3) + "\n");
    auto none = r.cli({"port", "pub", "81"});
    CHECK(none.code == 125);
    CHECK(none.err == "container: no public port '81/tcp' published for pub\n");

    auto history = r.cli({"history", ctr::test::shared_busybox().image});
    REQUIRE(history.code == 0);
    CHECK(history.out.rfind("IMAGE", 0) == 0);
    CHECK(history.out.find("CREATED BY") != std::string::npos);
    auto steps = r.cli({"image", "history", "--format", "{{.CreatedBy}}", "--no-trunc", ctr::test::shared_busybox().image});
    CHECK(steps.code == 0);
    CHECK(std::count(steps.out.begin(), steps.out.end(), '\n') == std::count(history.out.begin(), history.out.end(), '\n') - 1);
    CHECK(r.cli({"history", "no/such:image"}).code == 125);

    auto info = r.cli({"info"});
    CHECK(info.code == 0);
    CHECK(info.out.find("Containers: 1\n Running: 1\n") != std::string::npos);
    CHECK(info.out.find("Default Runtime: runtime-linux\n") != std::string::npos);
    CHECK(r.cli({"info", "--format", "{{.ContainersRunning}}/{{.Containers}}"}).out == "1/1\n");

    CHECK(r.cli({"help", "image", "ls"}).out == r.cli({"image", "ls", "--help"}).out);
    CHECK(r.cli({"help", "images"}).out == r.cli({"image", "ls", "--help"}).out);
    CHECK(r.cli({"help"}).out.find("Subcommands:") != std::string::npos);

    REQUIRE(r.cli({"run", "-d", "--name", "two", ctr::test::shared_busybox().image, "sleep", "600"}).code == 0);
    CHECK(r.cli({"kill"}).code == 125);
    auto killed = r.cli({"kill", "-a"});
    CHECK_MESSAGE(killed.code == 0, killed.err);
    CHECK(killed.out == "two\npub\n");
    CHECK(r.cli({"wait", "pub", "two"}).code == 0);
    CHECK(r.cli({"ps", "-q"}).out.empty());
    CHECK(r.cli({"rm", "-a"}).code == 0);
}

TEST_CASE("completion scripts complete commands, flags and names in bash" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "webserver", ctr::test::shared_busybox().image, "sleep", "600"}).code == 0);
    REQUIRE(r.cli({"network", "create", "backnet"}).code == 0);
    const std::string path = (ctr::test::build_root() / "host").string() + ":" + ctr::test::env_or_empty("PATH");
    // Loads the script, fills COMP_WORDS as bash does for `line`, prints COMPREPLY.
    auto complete = [&](const std::string& words, int cword) {
        const std::string script = "source <(container completion bash) && complete -p container >/dev/null && COMP_WORDS=(" + words +
                                   ") && COMP_CWORD=" + std::to_string(cword) + " && _container && printf '%s\\n' \"${COMPREPLY[@]}\"";
        auto res = ctr::test::run("/bin/bash", {"-c", script}, {"PATH=" + path, "CONTAINER_ROOT=" + r.root()});
        CHECK_MESSAGE(res.code == 0, res.err);
        return res.out;
    };
    CHECK(complete("container ru", 1) == "run\n");
    CHECK(complete("container ima", 1) == "image\nimages\n");
    CHECK(complete("container image l", 2) == "ls\nlist\nload\n");
    CHECK(complete("container stop web", 2) == "webserver\n");
    CHECK(complete("container run --netw", 2) == "--network\n--network-alias\n");
    CHECK(complete("container run --network back", 3) == "backnet\n");
    CHECK(complete("container run -d " + ctr::test::shared_busybox().image.substr(0, 5), 3) == ctr::test::shared_busybox().image + "\n");
    CHECK(complete("container ps --fi", 2) == "--filter\n");
    CHECK(complete("container network rm back", 3) == "backnet\n");
    auto zsh = r.cli({"completion", "zsh"});
    CHECK(zsh.out.find("compdef _container container") != std::string::npos);
    CHECK(r.cli({"completion", "fish"}).out.find("complete -c container") != std::string::npos);
    CHECK(r.cli({"completion", "tcsh"}).code == 125);
    CHECK(r.cli({"rm", "-f", "webserver"}).code == 0);
    CHECK(r.cli({"network", "rm", "backnet"}).code == 0);
}

TEST_CASE("run -P/--expose, --pull, and exec -u NAME, --env-file, -w, as docker's" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const std::string image = ctr::test::shared_busybox().image;
    // --pull never: only what is here; always: a pull first, even when here.
    auto never = r.cli({"run", "--rm", "--pull", "never", image, "true"});
    CHECK(never.code == 125);
    CHECK(never.err.find("no such image") != std::string::npos);
    auto always = r.cli({"run", "--rm", "--pull", "always", "--progress", "plain", image, "true"});
    CHECK_MESSAGE(always.code == 0, always.err);
    CHECK(r.cli({"run", "--rm", "--pull", "never", image, "true"}).code == 0);
    CHECK(always.err.find("Unable to find image") == std::string::npos);  // pulled first, not missed
    auto again = r.cli({"run", "--rm", "--pull", "always", "--progress", "plain", image, "true"});
    CHECK(again.code == 0);
    CHECK_MESSAGE(again.err.find(": exists") != std::string::npos, again.err);  // here, and pulled all the same
    CHECK(r.cli({"run", "--rm", "--pull", "sometimes", image, "true"}).code == 125);
    REQUIRE(r.cli({"run", "-d", "--name", "ex", "-P", "--expose", "80", "--expose", "7000-7001/udp", "-p", "127.0.0.1::7000/udp", image,
                   "sleep", "600"}).code == 0);
    auto ports = r.cli({"port", "ex"}).out;
    CHECK(ports.find("7000/udp -> 127.0.0.1:") != std::string::npos);  // published by -p; -P leaves it
    CHECK(ports.find("80/tcp -> 0.0.0.0:") != std::string::npos);
    CHECK(ports.find("7001/udp -> 0.0.0.0:") != std::string::npos);
    CHECK(std::count(ports.begin(), ports.end(), '\n') == 3);
    auto bad_expose = r.cli({"run", "--expose", "80:90", image, "true"});
    CHECK(bad_expose.code == 125);
    CHECK(bad_expose.err.find("--expose \"80:90\": want PORT[-END][/tcp|udp]") != std::string::npos);

    // exec as a user named in the container's /etc/passwd, with env files and a workdir.
    ctr::test::ScratchDir dir;
    {
        std::ofstream env(dir.path() / "exec.env");
        env << "# settings\nGREETING=hello\nTARGET=world\n";
    }
    auto as_app = r.cli({"exec", "-u", "app", "--env-file", (dir.path() / "exec.env").string(), "-e", "TARGET=you", "-w", "/tmp", "ex", "sh",
                         "-c", "id -u; id -g; echo $GREETING $TARGET; pwd"});
    CHECK_MESSAGE(as_app.code == 0, as_app.err);
    CHECK(as_app.out == "1000\n1000\nhello you\n/tmp\n");
    CHECK(r.cli({"exec", "-u", "app:staff", "ex", "id", "-g"}).out == "50\n");
    auto nobody = r.cli({"exec", "-u", "nobody", "ex", "true"});
    CHECK(nobody.code == 125);
    CHECK(nobody.err.find("user \"nobody\" not found") != std::string::npos);
    CHECK(r.cli({"rm", "-f", "ex"}).code == 0);

}

TEST_CASE("prunes take docker's until and label filters; system prune runs them all, asking first" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const std::string image = ctr::test::shared_busybox().image;
    REQUIRE(r.cli({"create", "--name", "keepme", "-l", "keep=1", image, "true"}).code == 0);
    REQUIRE(r.cli({"create", "--name", "tossme", image, "true"}).code == 0);
    auto names = [&] { return r.cli({"ps", "-a", "--format", "{{.Names}}"}).out; };
    auto pruned = r.cli({"prune", "--filter", "until=1h"});  // both made in the last hour: nothing goes
    CHECK(pruned.code == 0);
    CHECK(names() == "tossme\nkeepme\n");
    auto by_label = r.cli({"prune", "--filter", "label!=keep"});
    CHECK(by_label.code == 0);
    CHECK(names() == "keepme\n");
    CHECK(by_label.out.find("Total reclaimed space:") != std::string::npos);
    auto bad = r.cli({"prune", "--filter", "colour=red"});
    CHECK(bad.code == 125);
    CHECK(bad.err.find("invalid filter 'colour'") != std::string::npos);
    auto bad_time = r.cli({"image", "prune", "-a", "--filter", "until=yesterday"});
    CHECK(bad_time.code == 125);
    CHECK(bad_time.err.find("until=yesterday") != std::string::npos);

    REQUIRE(r.cli({"network", "create", "--label", "team=a", "net-a"}).code == 0);
    REQUIRE(r.cli({"network", "create", "net-b"}).code == 0);
    CHECK(r.cli({"network", "prune", "--filter", "label=team=a"}).out.find("net-a\n") == 0);
    CHECK(r.cli({"network", "ls", "-q", "--filter", "name=net-"}).out == "net-b\n");
    REQUIRE(r.cli({"volume", "create", "--label", "tmp=1", "scratch"}).code == 0);
    REQUIRE(r.cli({"volume", "create", "data"}).code == 0);
    CHECK(r.cli({"volume", "prune", "-a", "--filter", "label=tmp"}).out.find("scratch\n") == 0);
    CHECK(r.cli({"volume", "ls", "-q"}).out == "data\n");

    // No answer (or no): nothing goes. -f: no question.
    auto declined = r.cli({"system", "prune"});
    CHECK(declined.code == 0);
    CHECK(declined.err.find("Are you sure you want to continue? [y/N]") != std::string::npos);
    CHECK(names() == "keepme\n");
    REQUIRE(r.cli({"run", "-d", "--name", "busy", "-v", "/anon", image, "sleep", "600"}).code == 0);
    REQUIRE(r.cli({"create", "--name", "idle", "-v", "/anon", image, "true"}).code == 0);
    auto all = r.cli({"system", "prune", "-f", "-a", "--volumes"});
    CHECK_MESSAGE(all.code == 0, all.err);
    CHECK(all.out.find("Deleted Containers:\n") == 0);
    CHECK(all.out.find("Deleted Networks:\nnet-b\n") != std::string::npos);
    CHECK(all.out.find("Deleted Volumes:\n") != std::string::npos);  // idle's anonymous volume
    CHECK(all.out.find("Total reclaimed space: ") != std::string::npos);
    CHECK(names() == "busy\n");
    CHECK(r.cli({"images", "-q"}).out == image + "\n");  // busy's image stays
    CHECK(r.cli({"volume", "ls", "-q", "--filter", "name=data"}).out == "data\n");  // named: stays
    CHECK(r.cli({"rm", "-f", "-v", "busy"}).code == 0);
}

TEST_CASE("image rm -a removes every image; those a container was made from need -f" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    const std::string image = ctr::test::shared_busybox().image;
    REQUIRE(r.cli({"pull", "--progress", "none", image}).code == 0);
    REQUIRE(r.cli({"tag", image, "local/spare:1"}).code == 0);
    REQUIRE(r.cli({"tag", image, "local/used:1"}).code == 0);
    REQUIRE(r.cli({"create", "--name", "user", "local/used:1", "true"}).code == 0);
    auto both = r.cli({"image", "rm", "-a", "local/spare:1"});
    CHECK(both.code == 125);
    CHECK(both.err.find("not both or neither") != std::string::npos);
    auto all = r.cli({"image", "rm", "-a"});
    CHECK(all.code == 125);  // one is in use: named in the error, the others gone
    CHECK(all.err.find("local/used:1") != std::string::npos);
    CHECK(r.cli({"images", "--format", "{{.Repository}}:{{.Tag}}"}).out == "local/used:1\n");
    auto forced = r.cli({"rmi", "-a", "-f"});
    CHECK_MESSAGE(forced.code == 0, forced.err);
    CHECK(r.cli({"images", "-q"}).out.empty());
    CHECK(r.cli({"rm", "user"}).code == 0);
}

// The CLI builds only the command group a command line names (cli/main.cpp's
// table): every word `--help` lists, name or alias, must still reach its
// command, and a mistyped one still gets the nearest.
TEST_CASE("every top-level command and alias that --help lists answers its own --help") {
    DaemonRoot r;  // never started: help needs no daemon
    auto top = r.cli({"--help"});
    REQUIRE(top.code == 0);
    std::istringstream in(top.out.substr(top.out.find("Subcommands:")));
    std::string line;
    std::vector<std::vector<std::string>> commands;  // each: its name, then its aliases
    std::getline(in, line);
    while (std::getline(in, line) && line.rfind("  ", 0) == 0) {
        std::string words = line.substr(2, line.find("  ", 2) - 2);
        std::vector<std::string> names;
        for (size_t at = 0; at != std::string::npos;) {
            size_t comma = words.find(", ", at);
            names.push_back(words.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
            at = comma == std::string::npos ? comma : comma + 2;
        }
        commands.push_back(names);
    }
    REQUIRE(commands.size() > 30);
    for (const auto& names : commands) {
        if (names[0] == "help") continue;  // `help` alone is the top-level help
        for (const auto& word : names) {
            CAPTURE(word);
            auto help = r.cli({word, "--help"});
            CHECK_MESSAGE(help.code == 0, help.err);
            CHECK(help.out.find("Usage: container " + names[0]) != std::string::npos);
        }
    }
    auto typo = r.cli({"lss"});
    CHECK(typo.code == 125);
    CHECK(typo.err.find("did you mean \"ls\"") != std::string::npos);
    CHECK(r.cli({"help", "image", "ls"}).out.find("Usage: container image ls") != std::string::npos);
}
