#include "compose/dotenv.hpp"

#include <cctype>
#include <sstream>

namespace ctr::compose {

namespace {

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

}  // namespace

Result<std::map<std::string, std::string>> parse_dotenv(const std::string& text, const std::string& where) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    std::string raw;
    int line_no = 0;
    while (std::getline(in, raw)) {
        ++line_no;
        std::string line = trim(raw);
        if (line.empty() || line[0] == '#') continue;
        if (line.rfind("export ", 0) == 0) line = trim(line.substr(7));
        auto eq = line.find('=');
        std::string key = trim(line.substr(0, eq));
        bool valid = !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0]));
        for (char c : key) valid = valid && (c == '_' || c == '.' || c == '-' || std::isalnum(static_cast<unsigned char>(c)));
        if (!valid) return make_error(CTR_E_INVALID_ARGUMENT, where + ":" + std::to_string(line_no) + ": invalid variable name \"" + key + "\"");
        if (eq == std::string::npos) continue;  // a bare KEY sets nothing here
        std::string value = trim(line.substr(eq + 1));
        if (!value.empty() && (value[0] == '"' || value[0] == '\'')) {
            char q = value[0];
            std::string v;
            size_t i = 1;
            bool closed = false;
            for (; i < value.size(); ++i) {
                char c = value[i];
                if (c == q) {
                    closed = true;
                    break;
                }
                if (q == '"' && c == '\\' && i + 1 < value.size()) {
                    char n = value[++i];
                    v += n == 'n' ? '\n' : n == 't' ? '\t' : n;
                } else {
                    v += c;
                }
            }
            if (!closed) return make_error(CTR_E_INVALID_ARGUMENT, where + ":" + std::to_string(line_no) + ": unclosed quote");
            value = v;
        } else {
            auto hash = value.find(" #");  // an inline comment after an unquoted value
            if (hash != std::string::npos) value = trim(value.substr(0, hash));
        }
        out[key] = value;
    }
    return out;
}

}  // namespace ctr::compose
