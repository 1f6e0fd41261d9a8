// --log-opt max-size and max-file (services/log_options.hpp,
// sys/log_bound.h): what a container's logs hold on disk, and what `logs`
// (ours and Docker's) shows of them, through the reaper that waits for a
// runtime-linux container and through the shim's own watcher (a terminal).
#include "tests/support/registry.hpp"
#include "tests/support/run.hpp"

#include "tests/support/skip.hpp"
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

using ctr::test::DaemonRoot;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

fs::path log_of(const DaemonRoot& r, const std::string& name, const char* stream) {
    auto j = json::parse(r.cli({"inspect", name}).out)[0];
    return r.path() / "var/lib/container/containers" / j["id"].get<std::string>() / stream;
}

// Bytes the file holds on disk, and its length.
std::pair<long long, long long> disk_and_size(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return {static_cast<long long>(st.st_blocks) * 512, static_cast<long long>(st.st_size)};
}

size_t lines_in(const std::string& s) {
    return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

const std::string kXs(40, 'x');

std::string line_of(int i) {
    return "line " + std::to_string(i) + " " + kXs + "\n";
}

// 20000 lines of about 50 bytes on stdout (1 MiB), "err N" on stderr.
const std::string kChatter = "i=0; while [ $i -lt 20000 ]; do echo \"line $i " + kXs + "\"; echo \"err $i\" >&2; i=$((i+1)); done";

}  // namespace

TEST_CASE("--log-opt max-size=64k,max-file=2: about 128 KiB of each stream on disk, logs shows the newest whole lines" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "--name", "chatty", "--network", "none", "--log-opt", "max-size=64k", "--log-opt", "max-file=2",
                   ctr::test::shared_busybox().image, "sh", "-c", kChatter})
                .code == 0);
    REQUIRE(r.cli({"wait", "chatty"}).out == "0\n");
    auto [disk, size] = disk_and_size(log_of(r, "chatty", "stdout.log"));
    long long written = 0;
    for (int i = 0; i < 20000; ++i) written += static_cast<long long>(line_of(i).size());
    CHECK(size == written);  // every byte written, at its offset
    CHECK(disk <= 2 * 64 * 1024 + 8192);
    CHECK(disk_and_size(log_of(r, "chatty", "stderr.log")).first <= 2 * 64 * 1024 + 8192);
    CHECK(fs::file_size(fs::path(log_of(r, "chatty", "stdout.log").string() + ".idx")) < 64 * 1024);

    auto logs = r.cli({"logs", "chatty"});
    REQUIRE(logs.code == 0);
    CHECK(logs.out.rfind("line ", 0) == 0);  // a whole line first, no bytes of the freed part
    CHECK(logs.out.find('\0') == std::string::npos);
    CHECK(logs.out.size() >= 64 * 1024);
    CHECK(logs.out.size() <= 2 * 64 * 1024);
    CHECK(logs.out.find("line 19999 ") != std::string::npos);
    CHECK(logs.out.find("line 0 ") == std::string::npos);
    CHECK(logs.err.rfind("err ", 0) == 0);
    CHECK(logs.err.find("err 19999\n") != std::string::npos);
    CHECK(logs.err.find("err 0\n") == std::string::npos);
    CHECK(r.cli({"logs", "--tail", "1", "chatty"}).out == line_of(19999));
    // --tail larger than what is kept: all that is kept.
    CHECK(r.cli({"logs", "--tail", "100000", "chatty"}).out == logs.out);
    auto stamped = r.cli({"logs", "-t", "chatty"});
    CHECK(lines_in(stamped.out) == lines_in(logs.out));
    CHECK(stamped.out.rfind("20", 0) == 0);
    CHECK(stamped.out.find("Z line ") == 29);  // "2026-12-06T04:02:47.681052049Z line ..."

    auto inspect = json::parse(r.cli({"inspect", "chatty"}).out)[0];
    CHECK(inspect["config"]["log_max_size"] == 65536);
    CHECK(inspect["config"]["log_max_file"] == 2);
    if (!ctr::test::docker_cli().empty()) {
        // Docker's logs route reads the same files.
        ctr::sys::RunOptions o;
        o.capture_stderr = true;
        o.env = {"DOCKER_HOST=unix://" + (r.path() / "run/container/docker.sock").string(), "DOCKER_CONFIG=" + (r.path() / "dc").string()};
        auto d = ctr::sys::run_capture({ctr::test::docker_cli(), "logs", "chatty"}, o);
        REQUIRE(d);
        CHECK(d->out == logs.out);
        auto lc = ctr::sys::run_capture({ctr::test::docker_cli(), "inspect", "-f", "{{json .HostConfig.LogConfig}}", "chatty"}, o);
        REQUIRE(lc);
        CHECK(lc->out == "{\"Type\":\"json-file\",\"Config\":{\"max-file\":\"2\",\"max-size\":\"64k\"}}\n");
    }
    CHECK(r.cli({"rm", "chatty"}).code == 0);
}

TEST_CASE("a terminal's log is bounded by the shim's own watcher; max-file=1 keeps only the newest bytes" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"run", "-d", "-t", "--name", "tty", "--network", "none", "--log-opt", "max-size=16k", "--log-opt", "max-file=1",
                   ctr::test::shared_busybox().image, "sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo \"tty line $i\"; i=$((i+1)); done; echo done"})
                .code == 0);
    REQUIRE(r.cli({"wait", "tty"}).out == "0\n");
    auto [disk, size] = disk_and_size(log_of(r, "tty", "stdout.log"));
    CHECK(size > 40000);
    CHECK(disk <= 16 * 1024 + 8192);
    auto logs = r.cli({"logs", "tty"});
    CHECK(logs.out.find("done") != std::string::npos);
    CHECK(logs.out.find("tty line 0\r\n") == std::string::npos);
    CHECK(logs.out.size() <= 16 * 1024);
}

TEST_CASE("logs are bounded by default (20m x 5); bad --log-driver and --log-opt are refused in one line, nothing made" * CTR_NEEDS_ROOT) {
    DaemonRoot r;
    REQUIRE(r.cli({"create", "--name", "plain", "--network", "none", ctr::test::shared_busybox().image, "true"}).code == 0);
    auto inspect = json::parse(r.cli({"inspect", "plain"}).out)[0];
    CHECK(inspect["config"]["log_max_size"] == 20 * 1024 * 1024);
    CHECK(inspect["config"]["log_max_file"] == 5);
    REQUIRE(r.cli({"create", "--name", "unbounded", "--network", "none", "--log-opt", "max-size=-1", ctr::test::shared_busybox().image, "true"}).code == 0);
    CHECK(json::parse(r.cli({"inspect", "unbounded"}).out)[0]["config"]["log_max_size"] == 0);
    const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
        {{"--log-opt", "max-size=lots"}, "--log-opt max-size: invalid size \"lots\""},
        {{"--log-opt", "max-size=0"}, "--log-opt max-size=0: want a size like 10m, or -1 for no bound"},
        {{"--log-opt", "max-file=0"}, "--log-opt max-file=0: want a number of files, 1 or more"},
        {{"--log-opt", "max-file=x"}, "--log-opt max-file=x: want a number of files"},
        {{"--log-opt", "mode=non-blocking"}, "--log-opt mode=non-blocking: unknown option"},
        {{"--log-opt", "compress=true"}, "--log-opt compress=true: rotated logs are not compressed here"},
        {{"--log-opt", "nokey"}, "--log-opt \"nokey\": want KEY=VALUE"},
        {{"--log-driver", "syslog"}, "--log-driver \"syslog\": not supported"},
    };
    for (const auto& [flags, message] : bad) {
        std::vector<std::string> args = {"create", "--name", "bad", "--network", "none"};
        args.insert(args.end(), flags.begin(), flags.end());
        args.insert(args.end(), {ctr::test::shared_busybox().image, "true"});
        auto res = r.cli(args);
        CHECK(res.code == 125);
        CHECK_MESSAGE(res.err.find(message) != std::string::npos, res.err);
        CHECK(std::count(res.err.begin(), res.err.end(), '\n') == 1);
    }
    CHECK(r.cli({"ls", "-a", "-q"}).out.size() == 2 * 13);  // plain and unbounded; no "bad"
}
