#include <ctr/base/units.hpp>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <regex>

namespace ctr {

Result<double> parse_since(const std::string& text, double now, const std::string& what) {
    static const std::regex number("[0-9]+(\\.[0-9]+)?");
    static const std::regex rfc3339("([0-9]{4})-([0-9]{2})-([0-9]{2})(T([0-9]{2}):([0-9]{2}):([0-9]{2})(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?");
    std::smatch m;
    if (std::regex_match(text, number)) return std::stod(text);
    if (std::regex_match(text, m, rfc3339)) {
        std::tm tm{};
        tm.tm_year = std::stoi(m[1]) - 1900;
        tm.tm_mon = std::stoi(m[2]) - 1;
        tm.tm_mday = std::stoi(m[3]);
        if (m[4].matched) {
            tm.tm_hour = std::stoi(m[5]);
            tm.tm_min = std::stoi(m[6]);
            tm.tm_sec = std::stoi(m[7]);
        }
        if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
            return make_error(CTR_E_INVALID_ARGUMENT, what + ": invalid time \"" + text + "\"");
        double t = static_cast<double>(timegm(&tm));
        if (m[8].matched) t += std::stod("0" + m[8].str());
        if (m[9].matched && m[9].str() != "Z") {
            std::string z = m[9];
            int offset = std::stoi(z.substr(1, 2)) * 3600 + std::stoi(z.substr(4, 2)) * 60;
            t -= z[0] == '+' ? offset : -offset;
        }
        return t;
    }
    auto d = parse_duration(text, what);
    if (!d) return make_error(CTR_E_INVALID_ARGUMENT, what + ": \"" + text + "\" is not a time (want 2026-11-28T16:14:17Z, seconds since the epoch, or a duration like 10m)");
    return now - *d;
}

Result<double> parse_duration(const std::string& text, const std::string& what) {
    auto bad = [&] {
        return make_error(CTR_E_INVALID_ARGUMENT, what + ": invalid duration \"" + text + "\" (want e.g. 30s, 1m30s, 500ms)");
    };
    if (text.empty()) return bad();
    double total = 0;
    size_t i = 0;
    bool bare = true;
    while (i < text.size()) {
        size_t start = i;
        while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
        if (i == start) return bad();
        double number = 0;
        try {
            size_t used = 0;
            number = std::stod(text.substr(start, i - start), &used);
            if (used != i - start) return bad();
        } catch (...) {
            return bad();
        }
        size_t unit_start = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
        std::string unit = text.substr(unit_start, i - unit_start);
        double mult = 0;
        if (unit.empty()) mult = bare && i == text.size() ? 1 : 0;
        else if (unit == "h") mult = 3600;
        else if (unit == "m") mult = 60;
        else if (unit == "s") mult = 1;
        else if (unit == "ms") mult = 0.001;
        else if (unit == "us") mult = 0.000001;
        if (mult == 0) return bad();
        bare = false;
        total += number * mult;
    }
    return total;
}

Result<int64_t> parse_size(const std::string& text, const std::string& what) {
    auto bad = [&] {
        return make_error(CTR_E_INVALID_ARGUMENT, what + ": invalid size \"" + text + "\" (want e.g. 512m, 1g)");
    };
    size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == 0) return bad();
    double number = 0;
    try {
        size_t used = 0;
        number = std::stod(text.substr(0, i), &used);
        if (used != i) return bad();
    } catch (...) {
        return bad();
    }
    std::string unit;
    for (size_t k = i; k < text.size(); ++k) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[k])));
    double mult = 1;
    if (unit.empty() || unit == "b") mult = 1;
    else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1024.0;
    else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1024.0 * 1024;
    else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1024.0 * 1024 * 1024;
    else if (unit == "t" || unit == "tb" || unit == "tib") mult = 1024.0 * 1024 * 1024 * 1024;
    else return bad();
    double bytes = number * mult;
    if (!std::isfinite(bytes) || bytes > 9.0e18)
        return make_error(CTR_E_INVALID_ARGUMENT, what + ": size \"" + text + "\" is too large");
    return static_cast<int64_t>(bytes);
}

std::string human_size(int64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    if (u == 0) std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
    else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

}  // namespace ctr
