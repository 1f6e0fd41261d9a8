#include "apiserver/router.hpp"

#include <algorithm>
#include <sstream>

namespace ctr::apiserver {

namespace {

std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : path) {
        if (c == '/') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

std::string decode(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace

bool Request::flag(const std::string& key) const {
    auto it = query.find(key);
    return it != query.end() && (it->second == "1" || it->second == "true");
}

std::string Request::param(const std::string& key) const {
    auto it = params.find(key);
    return it == params.end() ? "" : it->second;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
    std::map<std::string, std::string> out;
    size_t start = 0;
    while (start <= query.size()) {
        size_t amp = query.find('&', start);
        std::string_view part = query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
        if (!part.empty()) {
            size_t eq = part.find('=');
            out[decode(part.substr(0, eq))] = eq == std::string_view::npos ? "" : decode(part.substr(eq + 1));
        }
        if (amp == std::string_view::npos) break;
        start = amp + 1;
    }
    return out;
}

std::vector<std::string> query_values(std::string_view query, const std::string& key) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= query.size()) {
        size_t amp = query.find('&', start);
        std::string_view part = query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
        size_t eq = part.find('=');
        if (!part.empty() && decode(part.substr(0, eq)) == key) out.push_back(eq == std::string_view::npos ? "" : decode(part.substr(eq + 1)));
        if (amp == std::string_view::npos) break;
        start = amp + 1;
    }
    return out;
}

void Router::add(const std::string& method, const std::string& pattern, Handler handler) {
    routes_.push_back(Route{method, split_path(pattern), std::move(handler), pattern});
}

void Router::add_streaming(const std::string& method, const std::string& pattern, Handler handler) {
    routes_.push_back(Route{method, split_path(pattern), std::move(handler), pattern, true});
}

void Router::add_handover(const std::string& method, const std::string& pattern, Handler handler) {
    routes_.push_back(Route{method, split_path(pattern), std::move(handler), pattern, false, true});
}

const Router::Route* Router::match(Request& req, bool& path_matched) const {
    auto segs = split_path(req.path);
    path_matched = false;
    for (const auto& r : routes_) {
        // A "{name*}" segment takes one or more segments (an image name has slashes).
        const bool greedy = std::any_of(r.segments.begin(), r.segments.end(), [](const std::string& w) { return w.size() > 3 && w.substr(w.size() - 2) == "*}"; });
        if (greedy ? segs.size() < r.segments.size() : r.segments.size() != segs.size()) continue;
        const size_t extra = segs.size() - r.segments.size();
        std::map<std::string, std::string> params;
        bool match = true;
        for (size_t i = 0, j = 0; i < r.segments.size() && match; ++i, ++j) {
            const auto& want = r.segments[i];
            if (want.size() > 3 && want.front() == '{' && want.substr(want.size() - 2) == "*}") {
                std::string joined = decode(segs[j]);
                for (size_t k = 0; k < extra; ++k) joined += "/" + decode(segs[++j]);
                params[want.substr(1, want.size() - 3)] = joined;
            } else if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
                params[want.substr(1, want.size() - 2)] = decode(segs[j]);
            } else {
                match = want == segs[j];
            }
        }
        if (!match) continue;
        path_matched = true;
        if (r.method != req.method) continue;
        req.params = std::move(params);
        return &r;
    }
    return nullptr;
}

bool Router::streams_body(const Request& request) const {
    Request copy = request;
    bool path_matched = false;
    const Route* r = match(copy, path_matched);
    return r && r->streaming;
}

bool Router::hands_over(const Request& request) const {
    Request copy = request;
    bool path_matched = false;
    const Route* r = match(copy, path_matched);
    return r && r->handover;
}

Result<Reply> Router::dispatch(Request& req) const {
    bool path_matched = false;
    if (const Route* r = match(req, path_matched)) return r->handler(req);
    if (path_matched) return make_error(CTR_E_UNIMPLEMENTED, "method " + req.method + " is not allowed on " + req.path);
    return make_error(CTR_E_NOT_FOUND, "no route " + req.method + " " + req.path);
}

std::vector<std::string> Router::routes() const {
    std::vector<std::string> out;
    for (const auto& r : routes_) out.push_back(r.method + " " + r.pattern);
    return out;
}

}  // namespace ctr::apiserver
