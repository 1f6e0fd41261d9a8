#include "cli/listing.hpp"

#include <ctr/base/strings.hpp>

#include <algorithm>
#include <cstdio>
#include <set>

namespace ctr::cli {

using nlohmann::json;

bool is_template(const std::string& format) { return !format.empty() && format != "table" && format != "json"; }

namespace {

// The template of a format, without its "table" prefix.
std::string body_of(const std::string& format, bool& table) {
    std::string f = gotmpl::unescape_format(format);
    table = f.rfind("table", 0) == 0;
    if (table) f = f.substr(5);
    size_t b = f.find_first_not_of(' '), e = f.find_last_not_of(' ');
    return b == std::string::npos ? "" : f.substr(b, e - b + 1);
}

gotmpl::Methods label_method(const json& labels) {
    gotmpl::Methods m;
    m["Label"] = [labels](const std::vector<json>& args) -> Result<json> {
        if (args.size() != 1 || !args[0].is_string()) return make_error(CTR_E_INVALID_ARGUMENT, "Label takes one name");
        auto it = labels.find(args[0].get<std::string>());
        return it != labels.end() && it->is_string() ? *it : json("");
    };
    return m;
}

}  // namespace

Status check_format(const std::string& format) {
    if (!is_template(format)) return {};
    bool table = false;
    auto t = gotmpl::Template::parse(body_of(format, table));
    if (!t) return make_error(CTR_E_INVALID_ARGUMENT, "--format: " + t.error().message);
    return {};
}

Status print_template(const std::string& format, const json& items, const ListKind& kind, bool no_trunc) {
    bool table = false;
    auto t = gotmpl::Template::parse(body_of(format, table));
    if (!t) return make_error(CTR_E_INVALID_ARGUMENT, "--format: " + t.error().message);
    std::string out;
    if (table) {
        json header = json::object();
        for (const auto& [field, title] : kind.headers) header[field] = title;
        // The header's Label column reads "LABEL", whatever the key.
        gotmpl::Methods m;
        m["Label"] = [](const std::vector<json>&) -> Result<json> { return json("LABEL"); };
        auto line = t->execute(header, m);
        if (!line) return make_error(CTR_E_INVALID_ARGUMENT, "--format: " + line.error().message);
        out += *line + "\n";
    }
    for (const auto& item : items) {
        for (const auto& row : kind.rows(item, no_trunc)) {
            auto line = t->execute(row.fields, label_method(row.labels));
            if (!line) return make_error(CTR_E_INVALID_ARGUMENT, "--format: " + line.error().message);
            out += *line + "\n";
        }
    }
    if (table) out = align_tabs(out);
    std::fputs(out.c_str(), stdout);
    return {};
}

std::string align_tabs(const std::string& text) {
    std::vector<std::vector<std::string>> lines;
    size_t b = 0;
    while (b < text.size()) {
        size_t e = text.find('\n', b);
        if (e == std::string::npos) e = text.size();
        std::vector<std::string> cells;
        std::string line = text.substr(b, e - b);
        size_t c = 0;
        for (size_t t; (t = line.find('\t', c)) != std::string::npos; c = t + 1) cells.push_back(line.substr(c, t - c));
        cells.push_back(line.substr(c));
        lines.push_back(std::move(cells));
        b = e + 1;
    }
    std::vector<size_t> width;
    for (const auto& cells : lines)
        for (size_t i = 0; i + 1 < cells.size(); ++i) {
            if (width.size() <= i) width.resize(i + 1, 10);
            width[i] = std::max(width[i], cells[i].size() + 3);
        }
    std::string out;
    for (const auto& cells : lines) {
        std::string line;
        for (size_t i = 0; i < cells.size(); ++i) {
            line += cells[i];
            if (i + 1 < cells.size()) line += std::string(width[i] - cells[i].size(), ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

Result<std::string> filters_query(const std::vector<std::string>& filters) {
    json doc = json::object();
    for (const auto& f : filters) {
        const size_t eq = f.find('=');
        if (eq == std::string::npos || eq == 0)
            return make_error(CTR_E_INVALID_ARGUMENT, "--filter: \"" + f + "\" is not KEY=VALUE");
        doc[f.substr(0, eq)].push_back(f.substr(eq + 1));
    }
    return url_escape(doc.dump());
}

namespace {

std::string with_query(const std::string& path, const std::string& more) {
    if (more.empty()) return path;
    return path + (path.find('?') == std::string::npos ? "?" : "&") + more;
}

}  // namespace

int run_listing(const api::Client& client, const ListSource& src, const ListFlags& lf, const ListKind& kind,
                const std::function<void(const json& items)>& print_ours) {
    if (auto st = check_format(lf.format); !st) return fail(st.error());
    std::string filters;
    if (!lf.filters.empty()) {
        auto q = filters_query(lf.filters);
        if (!q) return fail(q.error());
        filters = "filters=" + *q;
    }
    json docker;
    if (!filters.empty() || is_template(lf.format)) {
        auto r = client.call("GET", with_query(src.docker, filters));
        if (!r) return fail(r.error());
        docker = src.docker_items.empty() ? *r : r->value(src.docker_items, json::array());
        if (!docker.is_array()) docker = json::array();
    }
    if (is_template(lf.format) && !lf.quiet) {
        if (auto st = print_template(lf.format, docker, kind, lf.no_trunc); !st) return fail(st.error());
        return 0;
    }
    auto ours = client.call("GET", src.ours);
    if (!ours) return fail(ours.error());
    json items = json::array();
    if (!filters.empty()) {
        std::set<std::string> kept;
        for (const auto& d : docker) kept.insert(d.value(src.docker_key, ""));
        for (auto& o : *ours)
            if (kept.count(o.value(src.ours_key, ""))) items.push_back(std::move(o));
    } else {
        items = std::move(*ours);
    }
    print_ours(items);
    return 0;
}

std::string human_duration(int64_t seconds) {
    const int64_t s = std::max<int64_t>(0, seconds), m = s / 60, h = m / 60;
    auto n = [](int64_t k, const char* unit) { return std::to_string(k) + " " + unit; };
    if (s < 1) return "Less than a second";
    if (s == 1) return "1 second";
    if (s < 60) return n(s, "seconds");
    if (m == 1) return "About a minute";
    if (m < 60) return n(m, "minutes");
    if (h == 1) return "About an hour";
    if (h < 48) return n(h, "hours");
    if (h < 24 * 7 * 2) return n(h / 24, "days");
    if (h < 24 * 30 * 2) return n(h / 24 / 7, "weeks");
    if (h < 24 * 365 * 2) return n(h / 24 / 30, "months");
    return n(h / 24 / 365, "years");
}

}  // namespace ctr::cli
