#include "build/dockerignore.hpp"

namespace ctr::build {

namespace {

// filepath.Clean for a relative pattern: no "." parts, no doubled or
// leading slashes, ".." resolved where it can be.
std::string clean(const std::string& p) {
    std::vector<std::string> parts;
    size_t i = 0;
    while (i <= p.size()) {
        size_t j = p.find('/', i);
        if (j == std::string::npos) j = p.size();
        std::string part = p.substr(i, j - i);
        if (part == "..") {
            if (!parts.empty() && parts.back() != "..") parts.pop_back();
            else parts.push_back(part);
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        i = j + 1;
    }
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : "/") + part;
    return out;
}

Result<std::string> to_regex(const std::string& pattern) {
    std::string re = "^";
    for (size_t i = 0; i < pattern.size(); ++i) {
        char c = pattern[i];
        if (c == '*') {
            if (i + 1 < pattern.size() && pattern[i + 1] == '*') {
                ++i;
                // "**/" matches zero or more directories; a final "**" anything.
                if (i + 1 < pattern.size() && pattern[i + 1] == '/') {
                    ++i;
                    re += "(.*/)?";
                } else {
                    re += ".*";
                }
            } else {
                re += "[^/]*";
            }
        } else if (c == '?') {
            re += "[^/]";
        } else if (c == '[') {
            size_t end = pattern.find(']', i + 2);
            if (end == std::string::npos) return make_error(CTR_E_INVALID_ARGUMENT, ".dockerignore: syntax error in pattern \"" + pattern + "\"");
            std::string cls = pattern.substr(i + 1, end - i - 1);
            if (!cls.empty() && cls[0] == '^') cls[0] = '!';
            re += "[" + std::string(cls[0] == '!' ? "^" : "") + (cls[0] == '!' ? cls.substr(1) : cls) + "]";
            i = end;
        } else if (c == '\\' && i + 1 < pattern.size()) {
            ++i;
            re += "\\";
            re += pattern[i];
        } else {
            if (std::string(".+()|{}^$\\").find(c) != std::string::npos) re += "\\";
            re += c;
        }
    }
    return re + "$";
}

}  // namespace

Result<IgnoreRules> IgnoreRules::parse(const std::string& text) {
    IgnoreRules rules;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        start = nl == std::string::npos ? text.size() : nl + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty() && line[0] == '#') continue;
        size_t a = line.find_first_not_of(" \t"), b = line.find_last_not_of(" \t");
        if (a == std::string::npos) continue;
        line = line.substr(a, b - a + 1);
        Rule r;
        if (line[0] == '!') {
            r.exception = true;
            line = line.substr(1);
            rules.exceptions_ = true;
        }
        std::string pattern = clean(line);
        if (pattern.empty()) continue;
        r.re = std::regex(CTR_TRY(to_regex(pattern)));
        rules.rules_.push_back(std::move(r));
    }
    return rules;
}

bool IgnoreRules::excluded(const std::string& path) const {
    bool out = false;
    for (const auto& r : rules_) {
        // The path itself or any directory above it.
        bool hit = std::regex_match(path, r.re);
        for (size_t slash = path.find('/'); !hit && slash != std::string::npos; slash = path.find('/', slash + 1))
            hit = std::regex_match(path.substr(0, slash), r.re);
        if (hit) out = !r.exception;
    }
    return out;
}

}  // namespace ctr::build
