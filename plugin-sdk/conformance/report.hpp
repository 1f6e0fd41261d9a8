// What a conformance run found, and the forms it is written in: lines for a
// person, one JSON document or JUnit XML for a plugin's own CI.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ctr::conformance {

struct Outcome {
    std::string id, title;
    enum class Verdict { pass, fail, skip } verdict = Verdict::pass;
    std::string detail;  // why it failed or was skipped
    double seconds = 0;
};

struct Report {
    std::string plugin, kind, version, dir;
    std::vector<Outcome> outcomes;
    int count(Outcome::Verdict v) const;
};

// "PASS ID title", "FAIL ID title: why", "SKIP ID title (why)".
std::string text_line(const Outcome& o);
// "N passed, N failed" (and ", N skipped" when any were).
std::string totals_line(const Report& r);
// {"plugin":{"name","kind","version","dir"},"rules":[{"id","title","result","detail"?,"seconds"}],
//  "passed","failed","skipped"}
nlohmann::json to_json(const Report& r);
// One <testsuite> named after the plugin, one <testcase> per rule, with
// <failure message=...> or <skipped message=...>, as JUnit readers take it.
std::string to_junit(const Report& r);

}  // namespace ctr::conformance
