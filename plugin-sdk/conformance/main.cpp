// container-plugin-conformance --plugin DIR [--rule ID]... [--list]
//                               [--format text|json] [--junit FILE]
//
// Runs the numbered rules of docs/plugin-requirements.md that apply to the
// plugin's kind, each in a forked child with its own temporary directory, and
// prints one line per rule and then "N passed, N failed" (or, with --format
// json, one document); --junit also writes JUnit XML for a plugin's own CI.
// Exit status: 0 all passed, 1 a rule failed, 2 a usage error.
#include "harness.hpp"
#include "report.hpp"

#include <ctr/pluginhost/manifest.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using namespace ctr;
using namespace ctr::conformance;

struct Verdict {
    bool passed = false;
    std::string detail;
};

// Runs one rule in a child process. The child reports "ok" or a reason
// through a pipe; a crash or a timeout is a failure with that as the reason.
Verdict run_isolated(const Rule& rule, const pluginhost::Manifest& manifest, int timeout_s) {
    // The parent owns the rule's directory, so that it is removed even when
    // the child crashes.
    char tmpl[] = "/tmp/ctr-conformance-XXXXXX";
    if (!mkdtemp(tmpl)) return {false, std::string("mkdtemp: ") + std::strerror(errno)};
    struct RemoveDir {
        std::string path;
        ~RemoveDir() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    } remove_dir{tmpl};
    int fds[2];
    if (pipe(fds) != 0) return {false, std::string("pipe: ") + std::strerror(errno)};
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return {false, std::string("fork: ") + std::strerror(errno)};
    if (pid == 0) {
        close(fds[0]);
        setpgid(0, 0);  // the parent kills the whole group on a timeout
        spdlog::set_level(spdlog::level::off);
        std::string message = "ok";
        Context ctx{manifest, tmpl, std::filesystem::path(tmpl) / "state"};
        std::filesystem::create_directories(ctx.state_dir);
        Status st = rule.check(ctx);
        bool passed = static_cast<bool>(st);
        if (!st) message = st.error().message;
        if (write(fds[1], message.data(), message.size()) < 0) passed = false;
        close(fds[1]);
        _exit(passed ? 0 : 1);
    }
    close(fds[1]);
    std::string message;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    bool timed_out = false;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        int n = poll(&p, 1, static_cast<int>(left));
        if (n <= 0) continue;
        char buf[4096];
        ssize_t got = read(fds[0], buf, sizeof buf);
        if (got <= 0) break;
        message.append(buf, static_cast<size_t>(got));
    }
    close(fds[0]);
    if (timed_out) kill(-pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) return {false, "timed out after " + std::to_string(timeout_s) + " s"};
    if (WIFSIGNALED(status))
        return {false, std::string("crashed: killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
                           strsignal(WTERMSIG(status)) + ")"};
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {true, ""};
    return {false, message.empty() ? "failed without a reason" : message};
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Checks a plugin against the numbered rules of docs/plugin-requirements.md"};
    std::string plugin_dir;
    std::vector<std::string> only;
    bool list = false;
    int timeout_s = 60;
    std::string format = "text", junit;
    app.add_option("--plugin", plugin_dir, "the plugin's folder (holding config.toml)");
    app.add_option("--rule", only, "run only this rule (repeatable)");
    app.add_flag("--list", list, "list the rules and exit");
    app.add_option("--timeout", timeout_s, "seconds each rule may take")->check(CLI::PositiveNumber);
    app.add_option("--format", format, "text (a line per rule) or json (one document)")->check(CLI::IsMember({"text", "json"}));
    app.add_option("--junit", junit, "also write the results as JUnit XML to this file");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    auto rules = all_rules();
    std::sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) { return a.id < b.id; });
    if (list) {
        for (const auto& r : rules) std::printf("%-8s %-8s %s\n", r.id.c_str(), r.kind ? pluginhost::kind_name(r.kind) : "any", r.title.c_str());
        return 0;
    }
    if (plugin_dir.empty()) {
        std::fprintf(stderr, "container-plugin-conformance: --plugin DIR is required\n");
        return 2;
    }
    for (const auto& id : only)
        if (std::none_of(rules.begin(), rules.end(), [&](const Rule& r) { return r.id == id; })) {
            std::fprintf(stderr, "container-plugin-conformance: unknown rule \"%s\" (see --list)\n", id.c_str());
            return 2;
        }

    auto manifest = pluginhost::parse_manifest(std::filesystem::path(plugin_dir) / "config.toml");
    if (!manifest) {
        std::fprintf(stderr, "container-plugin-conformance: %s\n", manifest.error().message.c_str());
        return 2;
    }
    // A report that cannot be written is a usage error found before the rules run, not after.
    std::ofstream junit_out;
    if (!junit.empty()) {
        junit_out.open(junit, std::ios::trunc);
        if (!junit_out) {
            std::fprintf(stderr, "container-plugin-conformance: --junit: cannot write \"%s\": %s\n", junit.c_str(), std::strerror(errno));
            return 2;
        }
    }
    const bool text = format == "text";
    Report report{manifest->name, pluginhost::kind_name(manifest->kind), manifest->version, manifest->file.parent_path().string(), {}};
    if (text) std::printf("plugin %s (%s, %s) at %s\n", report.plugin.c_str(), report.kind.c_str(), report.version.c_str(), report.dir.c_str());

    const bool root = geteuid() == 0;
    for (const auto& rule : rules) {
        if (rule.kind != 0 && rule.kind != manifest->kind) continue;
        if (!only.empty() && std::find(only.begin(), only.end(), rule.id) == only.end()) continue;
        Outcome o{rule.id, rule.title, Outcome::Verdict::skip, "needs root", 0};
        if (!rule.needs_root || root) {
            const auto started = std::chrono::steady_clock::now();
            Verdict v = run_isolated(rule, *manifest, timeout_s);
            o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            o.verdict = v.passed ? Outcome::Verdict::pass : Outcome::Verdict::fail;
            o.detail = v.detail;
        }
        if (text) {
            std::printf("%s\n", text_line(o).c_str());
            std::fflush(stdout);
        }
        report.outcomes.push_back(std::move(o));
    }
    if (text) std::printf("%s\n", totals_line(report).c_str());
    else std::printf("%s\n", to_json(report).dump(2).c_str());
    if (!junit.empty()) {
        junit_out << to_junit(report);
        if (!junit_out.flush()) {
            std::fprintf(stderr, "container-plugin-conformance: --junit: cannot write \"%s\"\n", junit.c_str());
            return 2;
        }
    }
    return report.count(Outcome::Verdict::fail) == 0 ? 0 : 1;
}
