#include "build/shell_words.hpp"

#include <cctype>

namespace ctr::build {

namespace {

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Lexer {
public:
    Lexer(const std::string& text, const Lookup& lookup, char escape) : s_(text), lookup_(lookup), esc_(escape) {}

    // The text up to `stop` (unquoted; consumed) or the end, as words.
    Result<std::vector<std::string>> words(bool split, char stop = 0) {
        out_.clear();
        cur_.clear();
        have_ = false;
        split_ = split;
        while (i_ < s_.size()) {
            char c = s_[i_];
            if (stop && c == stop) {
                ++i_;
                stopped_ = true;
                break;
            }
            if (split_ && (c == ' ' || c == '\t' || c == '\n')) {
                ++i_;
                end_word();
                continue;
            }
            if (c == esc_) {
                ++i_;
                literal(i_ < s_.size() ? std::string(1, s_[i_++]) : std::string(1, esc_));
            } else if (c == '\'') {
                ++i_;
                size_t end = s_.find('\'', i_);
                if (end == std::string::npos) return make_error(CTR_E_INVALID_ARGUMENT, "unexpected end of statement while looking for matching single-quote");
                literal(s_.substr(i_, end - i_));
                i_ = end + 1;
            } else if (c == '"') {
                ++i_;
                CTR_TRY_STATUS(double_quoted());
            } else if (c == '$') {
                ++i_;
                std::string v = CTR_TRY(dollar());
                expanded(v);
            } else {
                literal(std::string(1, c));
                ++i_;
            }
        }
        if (have_ || !split_) out_.push_back(cur_);
        return out_;
    }

    bool stopped() const { return stopped_; }

private:
    void end_word() {
        if (have_) out_.push_back(cur_);
        cur_.clear();
        have_ = false;
    }
    void literal(const std::string& t) {
        cur_ += t;
        have_ = true;
    }
    // An unquoted expansion: split at its whitespace when splitting words.
    void expanded(const std::string& v) {
        if (!split_) return literal(v);
        for (char c : v) {
            if (c == ' ' || c == '\t' || c == '\n') end_word();
            else literal(std::string(1, c));
        }
    }

    Status double_quoted() {
        have_ = true;
        while (i_ < s_.size()) {
            char c = s_[i_];
            if (c == '"') {
                ++i_;
                return ok();
            }
            if (c == esc_ && i_ + 1 < s_.size()) {
                char n = s_[i_ + 1];
                if (n == '"' || n == '$' || n == esc_) {
                    cur_ += n;
                    i_ += 2;
                    continue;
                }
            }
            if (c == '$') {
                ++i_;
                cur_ += CTR_TRY(dollar());
                continue;
            }
            cur_ += c;
            ++i_;
        }
        return make_error(CTR_E_INVALID_ARGUMENT, "unexpected end of statement while looking for matching double-quote");
    }

    // After a '$': the expansion, or a literal '$' when no name follows.
    Result<std::string> dollar() {
        if (i_ >= s_.size()) return std::string("$");
        if (s_[i_] != '{') {
            size_t start = i_;
            while (i_ < s_.size() && name_char(s_[i_])) ++i_;
            if (start == i_) return std::string("$");
            return lookup_(s_.substr(start, i_ - start)).value_or("");
        }
        ++i_;
        size_t start = i_;
        while (i_ < s_.size() && name_char(s_[i_])) ++i_;
        std::string name = s_.substr(start, i_ - start);
        if (name.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "bad substitution: a variable name must follow ${");
        if (i_ >= s_.size()) return make_error(CTR_E_INVALID_ARGUMENT, "missing '}' after ${" + name);
        auto value = lookup_(name);
        if (s_[i_] == '}') {
            ++i_;
            return value.value_or("");
        }
        bool colon = s_[i_] == ':';
        if (colon) ++i_;
        if (i_ >= s_.size()) return make_error(CTR_E_INVALID_ARGUMENT, "missing '}' after ${" + name);
        char op = s_[i_++];
        if (op != '-' && op != '+' && op != '?')
            return make_error(CTR_E_INVALID_ARGUMENT, "unsupported modifier (" + std::string(1, op) + ") in substitution ${" + name);
        // The word: expanded on its own, up to the matching '}'.
        Lexer inner(s_, lookup_, esc_);
        inner.i_ = i_;
        auto w = CTR_TRY(inner.words(false, '}'));
        if (!inner.stopped()) return make_error(CTR_E_INVALID_ARGUMENT, "missing '}' after ${" + name);
        i_ = inner.i_;
        std::string word = w.empty() ? "" : w[0];
        bool set = colon ? value.has_value() && !value->empty() : value.has_value();
        switch (op) {
        case '-': return set ? *value : word;
        case '+': return set ? word : std::string();
        default:
            if (set) return *value;
            return make_error(CTR_E_INVALID_ARGUMENT, name + ": " + (word.empty() ? "is not allowed to be unset" : word));
        }
    }

    const std::string& s_;
    const Lookup& lookup_;
    char esc_;
    size_t i_ = 0;
    std::vector<std::string> out_;
    std::string cur_;
    bool have_ = false;
    bool split_ = false;
    bool stopped_ = false;
};

}  // namespace

Result<std::string> expand_word(const std::string& word, const Lookup& lookup, char escape) {
    auto w = CTR_TRY(Lexer(word, lookup, escape).words(false));
    return w.empty() ? std::string() : w[0];
}

Result<std::vector<std::string>> expand_words(const std::string& text, const Lookup& lookup, char escape) {
    return Lexer(text, lookup, escape).words(true);
}

}  // namespace ctr::build
