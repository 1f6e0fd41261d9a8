#include "compose/interpolate.hpp"

#include <cctype>

namespace ctr::compose {

namespace {

bool name_char(char c, bool first) {
    return c == '_' || std::isalpha(static_cast<unsigned char>(c)) || (!first && std::isdigit(static_cast<unsigned char>(c)));
}

// The end of a "${...}" that starts at `open` (the "{"), nested braces counted.
size_t closing(const std::string& s, size_t open) {
    int depth = 0;
    for (size_t i = open; i < s.size(); ++i) {
        if (s[i] == '{') ++depth;
        else if (s[i] == '}' && --depth == 0) return i;
    }
    return std::string::npos;
}

}  // namespace

Result<std::string> interpolate(const std::string& s, const Lookup& lookup) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '$') {
            out += s[i];
            continue;
        }
        if (i + 1 >= s.size()) {
            out += '$';
            continue;
        }
        char next = s[i + 1];
        if (next == '$') {
            out += '$';
            ++i;
            continue;
        }
        if (name_char(next, true)) {  // $VAR
            size_t j = i + 1;
            while (j < s.size() && name_char(s[j], j == i + 1)) ++j;
            out += lookup(s.substr(i + 1, j - i - 1)).value_or("");
            i = j - 1;
            continue;
        }
        if (next != '{') {
            out += '$';
            continue;
        }
        size_t end = closing(s, i + 1);
        if (end == std::string::npos) return make_error(CTR_E_INVALID_ARGUMENT, "unclosed \"${\" in \"" + s + "\"");
        std::string inner = s.substr(i + 2, end - i - 2);
        size_t n = 0;
        while (n < inner.size() && name_char(inner[n], n == 0)) ++n;
        if (n == 0) return make_error(CTR_E_INVALID_ARGUMENT, "invalid variable \"${" + inner + "}\"");
        std::string name = inner.substr(0, n), op = inner.substr(n);
        auto value = lookup(name);
        bool colon = !op.empty() && op[0] == ':';
        std::string kind = op.substr(colon ? 1 : 0, op.empty() ? 0 : 1);
        std::string arg = op.size() > (colon ? 2u : 1u) ? op.substr(colon ? 2 : 1) : "";
        bool missing = !value || (colon && value->empty());
        if (op.empty()) {
            out += value.value_or("");
        } else if (kind == "-") {
            out += missing ? CTR_TRY(interpolate(arg, lookup)) : *value;
        } else if (kind == "?") {
            if (missing) {
                std::string msg = CTR_TRY(interpolate(arg, lookup));
                return make_error(CTR_E_INVALID_ARGUMENT, "required variable " + name + " is missing a value" + (msg.empty() ? "" : ": " + msg));
            }
            out += *value;
        } else if (kind == "+") {
            out += missing ? "" : CTR_TRY(interpolate(arg, lookup));
        } else {
            return make_error(CTR_E_INVALID_ARGUMENT, "invalid variable \"${" + inner + "}\"");
        }
        i = end;
    }
    return out;
}

}  // namespace ctr::compose
