#include "build/dockerfile.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

namespace ctr::build {

namespace {

const std::set<std::string>& known_keywords() {
    static const std::set<std::string> k = {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM",
                                            "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL",
                                            "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"};
    return k;
}

bool heredoc_keyword(const std::string& k) { return k == "RUN" || k == "COPY" || k == "ADD"; }

std::string trim_left(const std::string& s) {
    size_t i = s.find_first_not_of(" \t");
    return i == std::string::npos ? "" : s.substr(i);
}

std::string trim_right(const std::string& s) {
    size_t i = s.find_last_not_of(" \t\r");
    return i == std::string::npos ? "" : s.substr(0, i + 1);
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

bool is_comment(const std::string& line) {
    std::string t = trim_left(line);
    return !t.empty() && t[0] == '#';
}

class Parser {
public:
    Parser(const std::string& text, std::string filename) : file_(std::move(filename)) {
        size_t start = 0;
        while (start <= text.size()) {
            size_t nl = text.find('\n', start);
            if (nl == std::string::npos) {
                if (start < text.size()) lines_.push_back(text.substr(start));
                break;
            }
            std::string l = text.substr(start, nl - start);
            if (!l.empty() && l.back() == '\r') l.pop_back();
            lines_.push_back(std::move(l));
            start = nl + 1;
        }
    }

    Result<Dockerfile> run() {
        Dockerfile df;
        df.filename = file_;
        CTR_TRY_STATUS(directives(df));
        escape_ = df.escape;
        while (pos_ < lines_.size()) {
            const std::string& line = lines_[pos_];
            if (trim_left(line).empty() || is_comment(line)) {
                ++pos_;
                continue;
            }
            df.instructions.push_back(CTR_TRY(instruction()));
        }
        return df;
    }

private:
    Error fail(size_t line, size_t column, const std::string& message) const {
        return make_error(CTR_E_INVALID_ARGUMENT, file_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message);
    }

    // `# name=value` lines before anything else; the first other line (a
    // blank one included) ends them, as BuildKit does.
    Status directives(Dockerfile& df) {
        static const std::regex re(R"(^#\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*?)\s*$)");
        std::set<std::string> seen;
        for (; pos_ < lines_.size(); ++pos_) {
            std::smatch m;
            if (!std::regex_match(lines_[pos_], m, re)) break;
            std::string name = m[1].str();
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (name != "escape" && name != "syntax" && name != "check") continue;  // any other is a comment
            if (!seen.insert(name).second) return fail(pos_ + 1, 1, "only one " + name + " parser directive can be used");
            std::string value = m[2].str();
            if (name == "escape") {
                if (value != "\\" && value != "`") return fail(pos_ + 1, 1, "invalid escape token '" + value + "': it must be \\ or `");
                df.escape = value[0];
            } else if (name == "syntax") {
                df.syntax = value;
            }
        }
        return ok();
    }

    // One instruction from pos_: its continuation lines joined, its heredocs read.
    Result<Instruction> instruction() {
        Instruction ins;
        ins.line = static_cast<int>(pos_ + 1);
        const std::string& first = lines_[pos_];
        ins.column = static_cast<int>(first.find_first_not_of(" \t") + 1);
        std::string logical;
        bool more = true;
        while (more && pos_ < lines_.size()) {
            std::string piece = pos_ == static_cast<size_t>(ins.line - 1) ? trim_left(lines_[pos_]) : lines_[pos_];
            ++pos_;
            if (logical.size() && (trim_left(piece).empty() || is_comment(piece))) continue;  // inside a continuation
            std::string t = trim_right(piece);
            more = !t.empty() && t.back() == escape_;
            logical += more ? t.substr(0, t.size() - 1) : t;
            if (more && pos_ >= lines_.size()) break;
        }
        size_t sp = logical.find_first_of(" \t");
        std::string word = logical.substr(0, sp);
        ins.keyword = upper(word);
        std::string rest = sp == std::string::npos ? "" : trim_left(logical.substr(sp));
        ins.original = ins.keyword + (rest.empty() ? "" : " " + rest);
        if (!known_keywords().count(ins.keyword)) return fail(ins.line, ins.column, "unknown instruction: " + word);
        // Flags: --name=value words at the front.
        while (rest.rfind("--", 0) == 0) {
            size_t end = rest.find_first_of(" \t");
            std::string f = rest.substr(2, end == std::string::npos ? std::string::npos : end - 2);
            if (f.empty()) break;
            size_t eq = f.find('=');
            ins.flags.emplace_back(f.substr(0, eq), eq == std::string::npos ? "true" : f.substr(eq + 1));
            rest = end == std::string::npos ? "" : trim_left(rest.substr(end));
        }
        if (!rest.empty() && rest[0] == '[') {
            nlohmann::json j = nlohmann::json::parse(rest, nullptr, false);
            if (j.is_array() && std::all_of(j.begin(), j.end(), [](const nlohmann::json& e) { return e.is_string(); })) {
                ins.exec_form = true;
                for (const auto& e : j) ins.args.push_back(e.get<std::string>());
            }
        }
        ins.text = rest;
        if (!ins.exec_form) ins.args = split_words(rest, escape_);
        if (heredoc_keyword(ins.keyword) && !ins.exec_form) CTR_TRY_STATUS(heredocs(ins));
        return ins;
    }

    // The heredocs the instruction names (`<<EOF`, `<<-EOF`, `<<"EOF"`), in
    // order, each read from the lines after it up to its terminator.
    Status heredocs(Instruction& ins) {
        static const std::regex re(R"re(^<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2$)re");
        for (const auto& w : ins.args) {
            std::smatch m;
            if (w.rfind("<<", 0) != 0 || !std::regex_match(w, m, re)) continue;
            Heredoc h;
            h.name = m[3].str();
            h.expand = m[2].str().empty();
            bool chomp = m[1].str() == "-";
            bool closed = false;
            while (pos_ < lines_.size()) {
                std::string l = lines_[pos_++];
                if (chomp) l.erase(0, l.find_first_not_of('\t') == std::string::npos ? l.size() : l.find_first_not_of('\t'));
                if (l == h.name) {
                    closed = true;
                    break;
                }
                h.content += l + "\n";
            }
            if (!closed) return fail(ins.line, ins.column, "unterminated heredoc " + h.name + ": no line \"" + h.name + "\" before the end of the file");
            ins.heredocs.push_back(std::move(h));
        }
        return ok();
    }

    std::string file_;
    std::vector<std::string> lines_;
    size_t pos_ = 0;
    char escape_ = '\\';
};

}  // namespace

std::string Instruction::flag(const std::string& name, const std::string& fallback) const {
    for (auto it = flags.rbegin(); it != flags.rend(); ++it)
        if (it->first == name) return it->second;
    return fallback;
}

bool Instruction::has_flag(const std::string& name) const {
    return std::any_of(flags.begin(), flags.end(), [&](const auto& f) { return f.first == name; });
}

std::vector<std::string> split_words(const std::string& text, char escape) {
    std::vector<std::string> words;
    std::string cur;
    bool in_word = false;
    char quote = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (!quote && (c == ' ' || c == '\t')) {
            if (in_word) words.push_back(cur);
            cur.clear();
            in_word = false;
            continue;
        }
        in_word = true;
        cur += c;
        if (c == escape && quote != '\'' && i + 1 < text.size()) {
            cur += text[++i];
        } else if (quote && c == quote) {
            quote = 0;
        } else if (!quote && (c == '"' || c == '\'')) {
            quote = c;
        }
    }
    if (in_word) words.push_back(cur);
    return words;
}

Result<Dockerfile> parse_dockerfile(const std::string& text, const std::string& filename) {
    return Parser(text, filename).run();
}

}  // namespace ctr::build
