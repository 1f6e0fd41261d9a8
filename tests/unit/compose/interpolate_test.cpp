// ${VAR} interpolation and .env files, as Compose reads them.
#include "compose/dotenv.hpp"
#include "compose/interpolate.hpp"

#include <doctest/doctest.h>

#include <map>

using namespace ctr::compose;

namespace {

Lookup vars(std::map<std::string, std::string> m) {
    return [m](const std::string& k) -> std::optional<std::string> {
        auto it = m.find(k);
        if (it == m.end()) return std::nullopt;
        return it->second;
    };
}

}  // namespace

TEST_CASE("interpolation: plain, braces, defaults, errors, alternatives, escapes") {
    auto env = vars({{"A", "1"}, {"EMPTY", ""}, {"B", "two"}});
    CHECK(*interpolate("$A-${B}", env) == "1-two");
    CHECK(*interpolate("${MISSING:-x}", env) == "x");
    CHECK(*interpolate("${EMPTY:-x}", env) == "x");
    CHECK(*interpolate("${EMPTY-x}", env) == "");
    CHECK(*interpolate("${MISSING-${B}}", env) == "two");  // defaults may hold variables
    CHECK(*interpolate("${A:+set}", env) == "set");
    CHECK(*interpolate("${MISSING:+set}", env) == "");
    CHECK(*interpolate("$$A costs $$5", env) == "$A costs $5");
    CHECK(*interpolate("$MISSING.", env) == ".");
    CHECK(*interpolate("price: 5$", env) == "price: 5$");
    auto required = interpolate("${MISSING:?set MISSING first}", env);
    REQUIRE_FALSE(required);
    CHECK(required.error().message == "required variable MISSING is missing a value: set MISSING first");
    CHECK_FALSE(interpolate("${A", env));
    CHECK_FALSE(interpolate("${}", env));
    CHECK_FALSE(interpolate("${A:x}", env));
}

TEST_CASE(".env files: comments, export, quotes, inline comments, bad names") {
    auto vars_or = parse_dotenv("# comment\n\nexport A=1\nB = two words # note\nC='lit $X'\nD=\"a\\nb\"\nE=\nONLY\n", "x.env");
    REQUIRE(vars_or);
    auto& v = *vars_or;
    CHECK(v["A"] == "1");
    CHECK(v["B"] == "two words");
    CHECK(v["C"] == "lit $X");
    CHECK(v["D"] == "a\nb");
    CHECK(v["E"] == "");
    CHECK(v.count("ONLY") == 0);
    auto bad = parse_dotenv("GOOD=1\n1BAD=2\n", "x.env");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == "x.env:2: invalid variable name \"1BAD\"");
    CHECK_FALSE(parse_dotenv("Q=\"open\n", "x.env"));
}
