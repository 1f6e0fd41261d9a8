// The Dockerfile frontend against its corpus (tests/fixtures/dockerfiles):
// each parse/*.txt holds a Dockerfile, then "=== expect ===" and one line per
// instruction, "=== error ===" and the message, or "=== stages ===" and the
// plan; words.jsonl holds word expansions with their words or error.
#include "build/dockerfile.hpp"
#include "build/dockerignore.hpp"
#include "build/shell_words.hpp"
#include "build/stages.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace ctr::build;
using nlohmann::json;

namespace {

fs::path corpus() {
    const char* source = std::getenv("CTR_SOURCE_ROOT");
    REQUIRE_MESSAGE(source != nullptr, "CTR_SOURCE_ROOT is not set: run this through `meson test`");
    return fs::path(source) / "tests/fixtures/dockerfiles";
}

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string dump(const Dockerfile& df) {
    std::string out;
    if (!df.syntax.empty()) out += "syntax " + df.syntax + "\n";
    if (df.escape != '\\') out += std::string("escape ") + df.escape + "\n";
    for (const auto& ins : df.instructions) {
        out += std::to_string(ins.line) + " " + ins.keyword;
        for (const auto& [n, v] : ins.flags) out += " --" + n + "=" + v;
        out += ins.exec_form ? " exec " : " shell ";
        out += json(ins.args).dump();
        for (const auto& h : ins.heredocs) out += " heredoc " + h.name + (h.expand ? " expand " : " literal ") + json(h.content).dump();
        out += "\n";
    }
    return out;
}

std::string dump_stages(const Plan& plan) {
    std::string out;
    for (const auto& s : plan.stages) {
        out += std::to_string(s.index) + " " + s.name + " " + s.base + " needs=" + json(std::vector<size_t>(s.needs.begin(), s.needs.end())).dump() + "\n";
    }
    for (std::string t : {"", "unused", "1"}) {
        auto st = plan.stages_for(t);
        out += "target=" + t + " " + (st ? json(*st).dump() : st.error().message) + "\n";
    }
    return out;
}

}  // namespace

TEST_CASE("Dockerfile corpus: parse, stages and errors as expected") {
    int cases = 0;
    for (const auto& entry : fs::directory_iterator(corpus() / "parse")) {
        std::string text = read(entry.path());
        std::string name = entry.path().filename().string();
        CAPTURE(name);
        for (std::string marker : {"=== expect ===\n", "=== error ===\n", "=== stages ===\n"}) {
            size_t at = text.find(marker);
            if (at == std::string::npos) continue;
            ++cases;
            std::string source = text.substr(0, at), expected = text.substr(at + marker.size());
            auto df = parse_dockerfile(source);
            ctr::Result<Plan> plan = df ? plan_build(*df, {}, {{"BUILDPLATFORM", "linux/amd64"}})
                                        : ctr::Result<Plan>(df.error());
            if (marker == "=== error ===\n") {
                REQUIRE_FALSE(plan.has_value());
                CHECK(plan.error().message + "\n" == expected);
            } else if (marker == "=== expect ===\n") {
                REQUIRE_MESSAGE(df.has_value(), df.error().message);
                CHECK(dump(*df) == expected);
                CHECK_MESSAGE(plan.has_value(), (plan ? "" : plan.error().message));
            } else {
                REQUIRE_MESSAGE(plan.has_value(), plan.error().message);
                CHECK(dump_stages(*plan) == expected);
            }
        }
    }
    CHECK(cases >= 20);
}

TEST_CASE("word expansion corpus: BuildKit's quoting and substitution rules") {
    std::ifstream in(corpus() / "words.jsonl");
    std::string line;
    std::getline(in, line);
    json env = json::parse(line)["env"];
    Lookup lookup = [&](const std::string& n) -> std::optional<std::string> {
        if (!env.contains(n)) return std::nullopt;
        return env[n].get<std::string>();
    };
    int cases = 0;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        json c = json::parse(line);
        std::string input = c[0];
        CAPTURE(input);
        auto words = expand_words(input, lookup);
        ++cases;
        if (c[1].is_string()) {
            REQUIRE_FALSE(words.has_value());
            CHECK(words.error().message == c[1].get<std::string>());
        } else {
            REQUIRE_MESSAGE(words.has_value(), words.error().message);
            CHECK(json(*words) == c[1]);
        }
    }
    CHECK(cases >= 30);
    // One word, never split; the escape character of `# escape=`.
    CHECK(*expand_word("$SP", lookup) == "x y");
    CHECK(*expand_word("C:`$A", lookup, '`') == "C:$A");
}

TEST_CASE("name_values: ENV's two forms, ARG without a value") {
    auto df = parse_dockerfile("FROM x\nENV A=1 B=\"two words\"\nENV LEGACY with  spaces\nARG X Y=2\n");
    REQUIRE(df.has_value());
    auto a = name_values(*df, df->instructions[1]);
    REQUIRE(a.has_value());
    REQUIRE(a->size() == 2);
    CHECK((*a)[1].first == "B");
    CHECK(*(*a)[1].second == "\"two words\"");
    auto b = name_values(*df, df->instructions[2]);
    REQUIRE(b->size() == 1);
    CHECK(*(*b)[0].second == "with  spaces");
    auto c = name_values(*df, df->instructions[3]);
    REQUIRE(c->size() == 2);
    CHECK_FALSE((*c)[0].second.has_value());
}

TEST_CASE(".dockerignore: Go patterns, ** and exceptions, last match wins") {
    auto r = IgnoreRules::parse("# comment\n*.log\n/build\n**/tmp\ndocs/**/*.md\n!docs/keep.md\nsrc/[a-c]?.c\n  \n");
    REQUIRE(r.has_value());
    CHECK(r->excluded("a.log"));
    CHECK_FALSE(r->excluded("dir/a.log"));  // '*' stops at '/'
    CHECK(r->excluded("build"));
    CHECK(r->excluded("build/out/x.o"));  // below an excluded directory
    CHECK(r->excluded("tmp"));
    CHECK(r->excluded("a/b/tmp/x"));
    CHECK(r->excluded("docs/x/y/z.md"));
    CHECK(r->excluded("docs/z.md"));
    CHECK_FALSE(r->excluded("docs/keep.md"));
    CHECK(r->excluded("src/ax.c"));
    CHECK_FALSE(r->excluded("src/dx.c"));
    CHECK_FALSE(r->excluded("Dockerfile"));
    CHECK(r->has_exceptions());
    auto bad = IgnoreRules::parse("[abc\n");
    CHECK_FALSE(bad.has_value());
}
