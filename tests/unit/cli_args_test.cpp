// What the CLI resolves in the caller's context before it asks the daemon
// (cli/env_args), how it names a mistyped command (cli/command_path), and
// how it says when something happened (cli/output).
#include "cli/command_path.hpp"
#include "cli/env_args.hpp"
#include "cli/output.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

using namespace ctr::cli;

TEST_CASE("-e KEY takes the caller's value, or is left out; KEY=VALUE is kept as given") {
    ::setenv("CLI_ARGS_TEST_SET", "from caller", 1);
    ::unsetenv("CLI_ARGS_TEST_UNSET");
    auto env = resolve_env({"CLI_ARGS_TEST_SET", "CLI_ARGS_TEST_UNSET", "GIVEN=x=y", "EMPTY="});
    CHECK(env == std::vector<std::string>{"CLI_ARGS_TEST_SET=from caller", "GIVEN=x=y", "EMPTY="});
}

TEST_CASE("env files: comments, blank lines, export, bare keys, CRLF, and a bad name by file and line") {
    ::setenv("CLI_ARGS_TEST_BARE", "bare", 1);
    auto env = parse_env_file("# c\n\nexport A=1\n  B=two words\r\nCLI_ARGS_TEST_BARE\nC=\"q\"\n", "f.env");
    REQUIRE(env.has_value());
    CHECK(*env == std::vector<std::string>{"A=1", "B=two words", "CLI_ARGS_TEST_BARE=bare", "C=\"q\""});
    auto bad = parse_env_file("A=1\nnot a name=2\n", "f.env");
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message == "--env-file: f.env:2: \"not a name\" is not a variable name");
    CHECK_FALSE(parse_env_file("=x\n", "f.env").has_value());
}

TEST_CASE("relative bind sources are made absolute against the working directory; names and absolute paths stay") {
    auto cwd = std::filesystem::current_path().string();
    CHECK(absolute_volume_source("./data:/data:ro") == cwd + "/data:/data:ro");
    CHECK(absolute_volume_source(".:/here") == cwd + ":/here");
    CHECK(absolute_volume_source("../up:/up") == std::filesystem::path(cwd).parent_path().string() + "/up:/up");
    CHECK(absolute_volume_source("named:/data") == "named:/data");
    CHECK(absolute_volume_source("/abs:/data") == "/abs:/data");
    CHECK(absolute_volume_source("/anonymous") == "/anonymous");
    CHECK(absolute_mount_source("type=bind,source=./d,target=/t,readonly") == "type=bind,source=" + cwd + "/d,target=/t,readonly");
    CHECK(absolute_mount_source("type=bind,src=.,dst=/t") == "type=bind,src=" + cwd + ",dst=/t");
    CHECK(absolute_mount_source("type=volume,source=v,target=/t") == "type=volume,source=v,target=/t");
}

TEST_CASE("a mistyped command is found with its nearest name; option values are no commands") {
    CLI::App app{"test", "container"};
    std::string root;
    app.add_option("--root", root);
    app.require_subcommand(1);
    app.add_subcommand("ls")->alias("list");
    auto* system = app.add_subcommand("system");
    system->require_subcommand(1);
    system->add_subcommand("stop");
    app.add_subcommand("run")->add_option("image");

    auto ps = locate_command(app, {"ps"});
    CHECK(ps.unknown == "ps");
    CHECK(ps.nearest == "ls");
    auto stp = locate_command(app, {"--root", "system", "system", "stp"});  // "system" after --root is its value
    CHECK(stp.names == std::vector<std::string>{"system"});
    CHECK(stp.unknown == "stp");
    CHECK(stp.nearest == "stop");
    CHECK(command_line_of(stp) == "container system");
    auto far = locate_command(app, {"zzzzzz"});
    CHECK(far.unknown == "zzzzzz");
    CHECK(far.nearest.empty());
    auto run = locate_command(app, {"run", "busybox", "ps"});  // a command's argument is no command
    CHECK(run.unknown.empty());
    CHECK(command_line_of(run) == "container run");
    CHECK(locate_command(app, {"list"}).names == std::vector<std::string>{"ls"});
}

TEST_CASE("times ago in words, singular and plural") {
    CHECK(time_ago(0) == "0 seconds ago");
    CHECK(time_ago(1) == "1 second ago");
    CHECK(time_ago(59) == "59 seconds ago");
    CHECK(time_ago(60) == "1 minute ago");
    CHECK(time_ago(150) == "2 minutes ago");
    CHECK(time_ago(3600) == "1 hour ago");
    CHECK(time_ago(86400 * 3) == "3 days ago");
    CHECK(time_ago(-5) == "0 seconds ago");  // a clock that stepped back
    CHECK(rfc3339(0) == "1970-01-01T00:00:00Z");
}
