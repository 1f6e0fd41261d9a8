// The build's progress as the CLI shows it: plain lines, and the live view
// checked by replaying its output on a small model of a terminal (lines
// printed, "go up N lines and erase down" applied) to see what stays.
#include "cli/build_progress.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

using ctr::cli::BuildProgress;
using nlohmann::json;

namespace {

// What `feed` writes through a BuildProgress in `mode`.
template <typename Feed>
std::string output_of(const std::string& mode, bool quiet, Feed feed) {
    std::FILE* f = std::tmpfile();
    {
        BuildProgress p(mode, quiet, f);
        feed(p);
    }
    std::fflush(f);
    std::rewind(f);
    std::string out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    std::fclose(f);
    return out;
}

// The lines left on a terminal after `out`: "\033[NA\033[J" takes back the
// last N lines; any other escape sequence fails the test.
std::vector<std::string> screen(const std::string& out) {
    std::vector<std::string> lines;
    std::string line;
    for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\033') {
            size_t a = out.find('A', i);
            REQUIRE(a != std::string::npos);
            size_t n = std::stoul(out.substr(i + 2, a - i - 2));
            REQUIRE(out.compare(a + 1, 3, "\033[J") == 0);
            REQUIRE(n <= lines.size());
            lines.resize(lines.size() - n);
            i = a + 3;
        } else if (out[i] == '\n') {
            lines.push_back(line);
            line.clear();
        } else {
            line += out[i];
        }
    }
    CHECK(line.empty());
    return lines;
}

std::string trimmed(std::string s) {
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

}  // namespace

TEST_CASE("build progress, live view: each step stays as one line with its time or CACHED; the running step's output is drawn under it and then goes") {
    std::string out = output_of("tty", false, [](BuildProgress& p) {
        CHECK(p.live());
        p.event({{"step", 1}, {"of", 3}, {"instruction", "FROM base"}});
        p.event({{"done", true}, {"seconds", 0}});
        p.event({{"step", 2}, {"of", 3}, {"instruction", "RUN make"}});
        p.event({{"cached", true}});
        p.event({{"step", 3}, {"of", 3}, {"instruction", "RUN echo"}});
        p.event({{"output", "hello\nwor"}});
        p.event({{"output", "ld\n"}});
        p.event({{"tick", true}});
        p.event({{"done", true}, {"seconds", 1.5}});
        p.finish(false);
    });
    // While it ran, its output was on screen under it.
    CHECK(out.find(" => > hello\n") != std::string::npos);
    CHECK(out.find(" => > world\n") != std::string::npos);
    auto lines = screen(out);
    REQUIRE(lines.size() == 4);
    CHECK(trimmed(lines[0]).rfind(" => [1/3] FROM base ", 0) == 0);
    CHECK(trimmed(lines[0]).substr(trimmed(lines[0]).size() - 5) == " 0.0s");
    CHECK(lines[1] == " => CACHED [2/3] RUN make");
    CHECK(trimmed(lines[2]).rfind(" => [3/3] RUN echo ", 0) == 0);
    CHECK(trimmed(lines[2]).substr(trimmed(lines[2]).size() - 5) == " 1.5s");
    CHECK(lines[3].rfind("[+] Building ", 0) == 0);
    CHECK(lines[3].find("(3/3)") != std::string::npos);
    for (const auto& l : lines) CHECK(l.size() < 80);  // no wrapped line to throw the redraw off
}

TEST_CASE("build progress, live view: a failed step stays with ERROR and its last lines of output; long lines are cut to the width") {
    std::string long_instruction = "RUN " + std::string(200, 'x');
    std::string out = output_of("tty", false, [&](BuildProgress& p) {
        p.event({{"step", 1}, {"of", 1}, {"instruction", long_instruction}});
        p.event({{"output", "one\ntwo\n\033[31mred\033[0m\nno newline"}});
        p.finish(true);
    });
    auto lines = screen(out);
    REQUIRE(lines.size() == 5);
    CHECK(lines[0].rfind(" => ERROR [1/1] RUN xxx", 0) == 0);
    CHECK(lines[0].size() == 79);
    CHECK(lines[0].substr(76) == "...");
    // The output's own control characters are dropped, so they cannot move the cursor.
    CHECK(lines[1] == " > one");
    CHECK(lines[2] == " > two");
    CHECK(lines[3] == " > [31mred[0m");
    CHECK(lines[4] == " > no newline");
}

TEST_CASE("build progress: plain lines without escapes, auto is plain off a terminal, and quiet prints nothing") {
    auto feed = [](BuildProgress& p) {
        p.event({{"step", 1}, {"of", 2}, {"instruction", "FROM base"}});
        p.event({{"done", true}, {"seconds", 0}});
        p.event({{"step", 2}, {"of", 2}, {"instruction", "RUN x"}});
        p.event({{"output", "out\n"}});
        p.event({{"tick", true}});
        p.event({{"cached", true}});
        p.finish(false);
    };
    const std::string plain = "#1 [1/2] FROM base\n#1 DONE 0.0s\n#2 [2/2] RUN x\nout\n#2 CACHED\n";
    CHECK(output_of("plain", false, feed) == plain);
    CHECK(output_of("auto", false, feed) == plain);  // a file is no terminal
    CHECK(output_of("tty", true, feed).empty());
    CHECK(output_of("plain", true, feed).empty());
}
