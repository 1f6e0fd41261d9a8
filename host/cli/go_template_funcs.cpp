// The functions of go_template.hpp: Go's builtins and docker's additions,
// with printf's verbs as Go formats them.
#include "cli/go_template_ast.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace ctr::cli::gotmpl {

using nlohmann::json;

namespace {

using Args = std::vector<json>;

Error bad(const std::string& what) { return make_error(CTR_E_INVALID_ARGUMENT, what); }

Status want(const Args& a, size_t n, const char* name) {
    if (a.size() != n) return bad(std::string("wrong number of args for ") + name + ": want " + std::to_string(n) + " got " + std::to_string(a.size()));
    return {};
}

Result<std::string> str(const json& v, const char* name) {
    if (!v.is_string()) return bad(std::string(name) + " wants a string, got " + print_value(v));
    return v.get<std::string>();
}

// -1, 0, 1; an error for values Go would not compare.
Result<int> compare(const json& a, const json& b) {
    if (a.is_number() && b.is_number()) {
        double x = a.get<double>(), y = b.get<double>();
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_string() && b.is_string()) {
        int c = a.get<std::string>().compare(b.get<std::string>());
        return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    if (a.is_boolean() && b.is_boolean()) return a == b ? 0 : 2;
    if (a.is_null() && b.is_null()) return 0;
    return bad("incompatible types for comparison");
}

Function ordered(bool (*ok)(int)) {
    return [ok](const Args& a) -> Result<json> {
        CTR_TRY_STATUS(want(a, 2, "comparison"));
        int c = CTR_TRY(compare(a[0], a[1]));
        if (c == 2) return bad("invalid type for comparison");
        return json(ok(c));
    };
}

Result<json> eq(const Args& a) {
    if (a.size() < 2) return bad("missing argument for comparison");
    for (size_t i = 1; i < a.size(); ++i) {
        auto c = compare(a[0], a[i]);
        if (!c) {
            if (a[0].is_null() || a[i].is_null()) continue;
            return c.error();
        }
        if (*c == 0) return json(true);
    }
    return json(false);
}

Result<json> index(const Args& a) {
    if (a.empty()) return bad("index of nothing");
    json cur = a[0];
    for (size_t i = 1; i < a.size(); ++i) {
        if (cur.is_array()) {
            if (!a[i].is_number_integer()) return bad("cannot index a list with " + print_value(a[i]));
            int64_t k = a[i].get<int64_t>();
            if (k < 0 || k >= static_cast<int64_t>(cur.size())) return bad("index out of range: " + std::to_string(k));
            cur = json(cur[static_cast<size_t>(k)]);
        } else if (cur.is_object()) {
            if (!a[i].is_string()) return bad("cannot index a map with " + print_value(a[i]));
            auto it = cur.find(a[i].get<std::string>());
            if (it != cur.end()) {
                cur = json(*it);
                continue;
            }
            // A missing key: the map's zero value, "" for maps of strings.
            bool strings = std::all_of(cur.begin(), cur.end(), [](const json& v) { return v.is_string(); });
            cur = strings ? json("") : json();
        } else if (cur.is_null()) {
            return bad("index of untyped nil");
        } else {
            return bad("can't index item of type " + std::string(cur.type_name()));
        }
    }
    return cur;
}

Result<json> slice(const Args& a) {
    if (a.empty() || a.size() > 3) return bad("wrong number of args for slice");
    const json& v = a[0];
    if (!v.is_string() && !v.is_array()) return bad("can't slice item of type " + std::string(v.type_name()));
    const int64_t n = v.is_string() ? static_cast<int64_t>(v.get_ref<const std::string&>().size()) : static_cast<int64_t>(v.size());
    int64_t lo = a.size() > 1 ? a[1].get<int64_t>() : 0, hi = a.size() > 2 ? a[2].get<int64_t>() : n;
    if (lo < 0 || hi < lo || hi > n) return bad("slice index out of range");
    if (v.is_string()) return json(v.get<std::string>().substr(lo, hi - lo));
    return json(std::vector<json>(v.begin() + lo, v.begin() + hi));
}

// Go's Sprint: spaces between operands when neither is a string.
std::string sprint(const Args& a) {
    std::string out;
    for (size_t i = 0; i < a.size(); ++i) {
        if (i > 0 && !a[i].is_string() && !a[i - 1].is_string()) out += ' ';
        out += print_value(a[i]);
    }
    return out;
}

std::string quote(const std::string& s) { return json(s).dump(); }

// One verb of printf with its flags, width and precision ("%-10s").
Result<std::string> verb(char v, const std::string& spec, const json& x) {
    auto pad = [&](std::string s) {
        size_t width = 0, dot = spec.find('.');
        std::string flags;
        size_t i = 0;
        while (i < spec.size() && std::string("-+# 0").find(spec[i]) != std::string::npos) flags += spec[i++];
        width = static_cast<size_t>(std::atoi(spec.substr(i, dot == std::string::npos ? std::string::npos : dot - i).c_str()));
        if ((v == 's' || v == 'v' || v == 'q') && dot != std::string::npos) s = s.substr(0, std::atoi(spec.c_str() + dot + 1));
        if (s.size() >= width) return s;
        const bool left = flags.find('-') != std::string::npos;
        const bool zero = flags.find('0') != std::string::npos && !left && v != 's' && v != 'q' && v != 'v';
        std::string fill(width - s.size(), zero ? '0' : ' ');
        if (zero && !s.empty() && (s[0] == '-' || s[0] == '+')) return s.substr(0, 1) + fill + s.substr(1);
        return left ? s + fill : fill + s;
    };
    char buf[128];
    switch (v) {
    case 'v': return pad(print_value(x));
    case 's': return pad(x.is_string() ? x.get<std::string>() : print_value(x));
    case 'q': return pad(quote(x.is_string() ? x.get<std::string>() : print_value(x)));
    case 't':
        if (!x.is_boolean()) return pad("%!t(" + print_value(x) + ")");
        return pad(x.get<bool>() ? "true" : "false");
    case 'd':
    case 'x':
    case 'X':
    case 'o':
    case 'c': {
        if (x.is_string() && (v == 'x' || v == 'X')) {
            std::string hex;
            for (unsigned char c : x.get<std::string>()) {
                std::snprintf(buf, sizeof buf, v == 'x' ? "%02x" : "%02X", c);
                hex += buf;
            }
            return pad(hex);
        }
        if (!x.is_number_integer()) return pad(std::string("%!") + v + "(" + print_value(x) + ")");
        const long long n = x.get<long long>();
        if (v == 'c') return pad(std::string(1, static_cast<char>(n)));
        std::snprintf(buf, sizeof buf, v == 'd' ? "%lld" : v == 'x' ? "%llx" : v == 'X' ? "%llX" : "%llo", n);
        return pad(buf);
    }
    case 'f':
    case 'e':
    case 'g': {
        if (!x.is_number()) return pad(std::string("%!") + v + "(" + print_value(x) + ")");
        const size_t dot = spec.find('.');
        const int prec = dot == std::string::npos ? (v == 'g' ? -1 : 6) : std::atoi(spec.c_str() + dot + 1);
        if (prec < 0) return pad(print_value(json(x.get<double>())));
        const std::string f = std::string("%.") + std::to_string(prec) + v;
        std::snprintf(buf, sizeof buf, f.c_str(), x.get<double>());
        return pad(buf);
    }
    default: return pad(std::string("%!") + v + "(" + print_value(x) + ")");
    }
}

Result<json> printf_(const Args& a) {
    if (a.empty() || !a[0].is_string()) return bad("printf wants a format string first");
    const std::string f = a[0].get<std::string>();
    std::string out;
    size_t next = 1;
    for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] != '%') {
            out += f[i];
            continue;
        }
        if (i + 1 < f.size() && f[i + 1] == '%') {
            out += '%';
            ++i;
            continue;
        }
        size_t j = i + 1;
        while (j < f.size() && (std::string("-+# 0.").find(f[j]) != std::string::npos || std::isdigit(static_cast<unsigned char>(f[j])))) ++j;
        if (j >= f.size()) return json(out + "%!(NOVERB)");
        const std::string spec = f.substr(i + 1, j - i - 1);
        if (next >= a.size()) out += std::string("%!") + f[j] + "(MISSING)";
        else out += CTR_TRY(verb(f[j], spec, a[next++]));
        i = j;
    }
    if (next < a.size()) {
        out += "%!(EXTRA ";
        for (size_t k = next; k < a.size(); ++k) out += (k > next ? ", " : "") + print_value(a[k]);
        out += ")";
    }
    return json(out);
}

std::string mapped(std::string s, int (*f)(int)) {
    for (auto& c : s) c = static_cast<char>(f(static_cast<unsigned char>(c)));
    return s;
}

const std::map<std::string, Function>& functions() {
    static const std::map<std::string, Function> table = {
        {"and", [](const Args& a) -> Result<json> {
             if (a.empty()) return bad("and needs arguments");
             for (const auto& v : a) if (!truth(v)) return v;
             return a.back();
         }},
        {"or", [](const Args& a) -> Result<json> {
             if (a.empty()) return bad("or needs arguments");
             for (const auto& v : a) if (truth(v)) return v;
             return a.back();
         }},
        {"not", [](const Args& a) -> Result<json> { CTR_TRY_STATUS(want(a, 1, "not")); return json(!truth(a[0])); }},
        {"eq", eq},
        {"ne", [](const Args& a) -> Result<json> { CTR_TRY_STATUS(want(a, 2, "ne")); return json(!CTR_TRY(eq(a)).get<bool>()); }},
        {"lt", ordered([](int c) { return c < 0; })},
        {"le", ordered([](int c) { return c <= 0; })},
        {"gt", ordered([](int c) { return c > 0; })},
        {"ge", ordered([](int c) { return c >= 0; })},
        {"len", [](const Args& a) -> Result<json> {
             CTR_TRY_STATUS(want(a, 1, "len"));
             if (a[0].is_string()) return json(a[0].get_ref<const std::string&>().size());
             if (a[0].is_array() || a[0].is_object()) return json(a[0].size());
             return bad("len of " + print_value(a[0]));
         }},
        {"index", index},
        {"slice", slice},
        {"print", [](const Args& a) -> Result<json> { return json(sprint(a)); }},
        {"println", [](const Args& a) -> Result<json> {
             std::string out;
             for (size_t i = 0; i < a.size(); ++i) out += (i ? " " : "") + print_value(a[i]);
             return json(out + "\n");
         }},
        {"printf", printf_},
        {"json", [](const Args& a) -> Result<json> { CTR_TRY_STATUS(want(a, 1, "json")); return json(a[0].dump()); }},
        {"join", [](const Args& a) -> Result<json> {
             CTR_TRY_STATUS(want(a, 2, "join"));
             if (!a[0].is_array() && !a[0].is_null()) return bad("join wants a list, got " + print_value(a[0]));
             std::string sep = CTR_TRY(str(a[1], "join")), out;
             if (a[0].is_array())
                 for (size_t i = 0; i < a[0].size(); ++i) out += (i ? sep : "") + print_value(a[0][i]);
             return json(out);
         }},
        {"split", [](const Args& a) -> Result<json> {
             CTR_TRY_STATUS(want(a, 2, "split"));
             std::string s = CTR_TRY(str(a[0], "split")), sep = CTR_TRY(str(a[1], "split"));
             json out = json::array();
             if (sep.empty()) {
                 for (char c : s) out.push_back(std::string(1, c));
                 return out;
             }
             size_t b = 0;
             for (size_t e; (e = s.find(sep, b)) != std::string::npos; b = e + sep.size()) out.push_back(s.substr(b, e - b));
             out.push_back(s.substr(b));
             return out;
         }},
        {"lower", [](const Args& a) -> Result<json> { CTR_TRY_STATUS(want(a, 1, "lower")); return json(mapped(CTR_TRY(str(a[0], "lower")), ::tolower)); }},
        {"upper", [](const Args& a) -> Result<json> { CTR_TRY_STATUS(want(a, 1, "upper")); return json(mapped(CTR_TRY(str(a[0], "upper")), ::toupper)); }},
        {"title", [](const Args& a) -> Result<json> {
             CTR_TRY_STATUS(want(a, 1, "title"));
             std::string s = CTR_TRY(str(a[0], "title"));
             for (size_t i = 0; i < s.size(); ++i)
                 if (i == 0 || std::isspace(static_cast<unsigned char>(s[i - 1]))) s[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[i])));
             return json(s);
         }},
        {"pad", [](const Args& a) -> Result<json> {
             CTR_TRY_STATUS(want(a, 3, "pad"));
             if (!a[1].is_number_integer() || !a[2].is_number_integer()) return bad("pad wants two numbers");
             return json(std::string(a[1].get<size_t>(), ' ') + print_value(a[0]) + std::string(a[2].get<size_t>(), ' '));
         }},
        {"truncate", [](const Args& a) -> Result<json> {
             CTR_TRY_STATUS(want(a, 2, "truncate"));
             if (!a[1].is_number_integer()) return bad("truncate wants a number");
             std::string s = print_value(a[0]);
             return json(s.substr(0, std::min(s.size(), a[1].get<size_t>())));
         }},
    };
    return table;
}

}  // namespace

const Function* find_function(const std::string& name) {
    const auto& t = functions();
    auto it = t.find(name);
    return it == t.end() ? nullptr : &it->second;
}

}  // namespace ctr::cli::gotmpl
