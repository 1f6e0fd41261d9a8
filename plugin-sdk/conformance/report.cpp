#include "report.hpp"

#include <algorithm>
#include <cstdio>

namespace ctr::conformance {

namespace {

const char* verdict_name(Outcome::Verdict v) {
    switch (v) {
    case Outcome::Verdict::pass: return "pass";
    case Outcome::Verdict::fail: return "fail";
    case Outcome::Verdict::skip: return "skip";
    }
    return "?";
}

// Text for an XML attribute or element: the five special characters, and
// control characters (other than tab and newline), which XML 1.0 cannot hold.
std::string xml_escaped(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n') out += '?';
            else out += static_cast<char>(c);
        }
    }
    return out;
}

std::string seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", s);
    return buf;
}

}  // namespace

int Report::count(Outcome::Verdict v) const {
    return static_cast<int>(std::count_if(outcomes.begin(), outcomes.end(), [&](const Outcome& o) { return o.verdict == v; }));
}

std::string text_line(const Outcome& o) {
    switch (o.verdict) {
    case Outcome::Verdict::pass: return "PASS " + o.id + " " + o.title;
    case Outcome::Verdict::fail: return "FAIL " + o.id + " " + o.title + ": " + o.detail;
    case Outcome::Verdict::skip: return "SKIP " + o.id + " " + o.title + " (" + o.detail + ")";
    }
    return "";
}

std::string totals_line(const Report& r) {
    std::string line = std::to_string(r.count(Outcome::Verdict::pass)) + " passed, " + std::to_string(r.count(Outcome::Verdict::fail)) + " failed";
    if (int skipped = r.count(Outcome::Verdict::skip)) line += ", " + std::to_string(skipped) + " skipped";
    return line;
}

nlohmann::json to_json(const Report& r) {
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& o : r.outcomes) {
        nlohmann::json j = {{"id", o.id}, {"title", o.title}, {"result", verdict_name(o.verdict)}, {"seconds", o.seconds}};
        if (!o.detail.empty()) j["detail"] = o.detail;
        rules.push_back(std::move(j));
    }
    return {{"plugin", {{"name", r.plugin}, {"kind", r.kind}, {"version", r.version}, {"dir", r.dir}}},
            {"rules", std::move(rules)},
            {"passed", r.count(Outcome::Verdict::pass)},
            {"failed", r.count(Outcome::Verdict::fail)},
            {"skipped", r.count(Outcome::Verdict::skip)}};
}

std::string to_junit(const Report& r) {
    double total = 0;
    for (const auto& o : r.outcomes) total += o.seconds;
    const std::string suite = xml_escaped("container-plugin-conformance." + r.plugin);
    std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    x += "<testsuites tests=\"" + std::to_string(r.outcomes.size()) + "\" failures=\"" + std::to_string(r.count(Outcome::Verdict::fail)) +
         "\" skipped=\"" + std::to_string(r.count(Outcome::Verdict::skip)) + "\" time=\"" + seconds_text(total) + "\">\n";
    x += "  <testsuite name=\"" + suite + "\" tests=\"" + std::to_string(r.outcomes.size()) + "\" failures=\"" +
         std::to_string(r.count(Outcome::Verdict::fail)) + "\" errors=\"0\" skipped=\"" + std::to_string(r.count(Outcome::Verdict::skip)) +
         "\" time=\"" + seconds_text(total) + "\">\n";
    for (const auto& o : r.outcomes) {
        x += "    <testcase classname=\"" + suite + "\" name=\"" + xml_escaped(o.id + " " + o.title) + "\" time=\"" + seconds_text(o.seconds) + "\"";
        if (o.verdict == Outcome::Verdict::pass) {
            x += "/>\n";
            continue;
        }
        const char* tag = o.verdict == Outcome::Verdict::fail ? "failure" : "skipped";
        x += ">\n      <" + std::string(tag) + " message=\"" + xml_escaped(o.detail) + "\"/>\n    </testcase>\n";
    }
    x += "  </testsuite>\n</testsuites>\n";
    return x;
}

}  // namespace ctr::conformance
