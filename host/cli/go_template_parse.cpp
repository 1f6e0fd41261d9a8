// The parser of go_template.hpp: the source into text and actions (with
// {{- -}} trimming), each action's tokens, then the tree of ifs, ranges,
// withs and pipelines.
#include "cli/go_template_ast.hpp"

#include <cctype>
#include <cstdlib>

namespace ctr::cli::gotmpl {

using nlohmann::json;

std::string line_col(const std::string& source, size_t pos) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < source.size(); ++i) {
        if (source[i] == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
    return std::to_string(line) + ":" + std::to_string(col);
}

namespace {

struct Token {
    enum Kind { Field, Dot, Var, Ident, Literal, LParen, RParen, Bar, Declare, Assign, Comma } kind;
    std::string text;
    json value;
    size_t pos = 0;
    bool glued = false;  // no space before it: ".A.B", "$x.A", "(..).A"
};

// A piece of the source: text, or the tokens of one action.
struct Item {
    bool action = false;
    std::string text;
    std::vector<Token> tokens;
    size_t pos = 0;
};

Error syntax(const std::string& src, size_t pos, const std::string& what) {
    return make_error(CTR_E_INVALID_ARGUMENT, "template: " + line_col(src, pos) + ": " + what);
}

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// A quoted string at src[i] ('"' or '`'); i moves past it.
Result<std::string> quoted(const std::string& src, size_t& i) {
    const char q = src[i];
    const size_t start = i++;
    std::string out;
    while (i < src.size() && src[i] != q) {
        char c = src[i++];
        if (c == '\\' && q == '"' && i < src.size()) {
            char e = src[i++];
            switch (e) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case '0': out += '\0'; break;
            default: out += e;
            }
            continue;
        }
        if (c == '\n' && q == '"') break;
        out += c;
    }
    if (i >= src.size() || src[i] != q) return syntax(src, start, "unterminated quoted string");
    ++i;
    return out;
}

Result<Token> number(const std::string& src, size_t& i) {
    const size_t start = i;
    if (src[i] == '-' || src[i] == '+') ++i;
    while (i < src.size() && (std::isalnum(static_cast<unsigned char>(src[i])) || src[i] == '.' || src[i] == '_')) ++i;
    std::string t = src.substr(start, i - start);
    char* end = nullptr;
    Token tok{Token::Literal, t, {}, start};
    long long n = std::strtoll(t.c_str(), &end, 0);
    if (end && *end == '\0') {
        tok.value = n;
        return tok;
    }
    double d = std::strtod(t.c_str(), &end);
    if (!end || *end != '\0') return syntax(src, start, "bad number syntax: \"" + t + "\"");
    tok.value = d;
    return tok;
}

// The tokens of the action src[b, e).
Result<std::vector<Token>> tokenize(const std::string& src, size_t b, size_t e) {
    std::vector<Token> out;
    size_t i = b;
    while (i < e) {
        const char c = src[i];
        const bool glued = i > b && !std::isspace(static_cast<unsigned char>(src[i - 1]));
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
            continue;
        }
        const size_t start = i;
        auto push = [&](Token::Kind k, std::string text, json value = nullptr) {
            out.push_back(Token{k, std::move(text), std::move(value), start, glued});
        };
        if (c == '.' && (i + 1 >= e || !ident_char(src[i + 1]) || std::isdigit(static_cast<unsigned char>(src[i + 1])))) {
            if (i + 1 < e && std::isdigit(static_cast<unsigned char>(src[i + 1]))) {
                out.push_back(CTR_TRY(number(src, i)));
                continue;
            }
            ++i;
            push(Token::Dot, ".");
        } else if (c == '.' || c == '$') {
            ++i;
            while (i < e && ident_char(src[i])) ++i;
            push(c == '.' ? Token::Field : Token::Var, src.substr(start, i - start));
        } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            while (i < e && ident_char(src[i])) ++i;
            std::string word = src.substr(start, i - start);
            if (word == "true" || word == "false") push(Token::Literal, word, word == "true");
            else if (word == "nil") push(Token::Literal, word, nullptr);
            else push(Token::Ident, word);
        } else if (c == '"' || c == '`') {
            std::string s = CTR_TRY(quoted(src, i));
            push(Token::Literal, src.substr(start, i - start), s);
        } else if (c == '\'') {
            if (i + 2 >= e || src[i + 2] != '\'') return syntax(src, start, "bad character constant");
            push(Token::Literal, src.substr(i, 3), static_cast<int64_t>(static_cast<unsigned char>(src[i + 1])));
            i += 3;
        } else if (std::isdigit(static_cast<unsigned char>(c)) || ((c == '-' || c == '+') && i + 1 < e && std::isdigit(static_cast<unsigned char>(src[i + 1])))) {
            out.push_back(CTR_TRY(number(src, i)));
        } else if (c == ':' && i + 1 < e && src[i + 1] == '=') {
            i += 2;
            push(Token::Declare, ":=");
        } else {
            ++i;
            switch (c) {
            case '(': push(Token::LParen, "("); break;
            case ')': push(Token::RParen, ")"); break;
            case '|': push(Token::Bar, "|"); break;
            case '=': push(Token::Assign, "="); break;
            case ',': push(Token::Comma, ","); break;
            default: return syntax(src, start, std::string("unexpected \"") + c + "\" in command");
            }
        }
    }
    return out;
}

// The end of the action that starts at `open` ("{{"): the offset of its "}}",
// past quoted strings.
Result<size_t> action_end(const std::string& src, size_t open) {
    size_t i = open + 2;
    while (i + 1 < src.size()) {
        if (src[i] == '"' || src[i] == '`') {
            CTR_TRY(quoted(src, i));
            continue;
        }
        if (src[i] == '}' && src[i + 1] == '}') return i;
        ++i;
    }
    return syntax(src, open, "unclosed action");
}

void trim_right(std::string& s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
}

Result<std::vector<Item>> scan(const std::string& src) {
    std::vector<Item> items;
    size_t i = 0;
    bool trim_next = false;
    while (i <= src.size()) {
        size_t open = src.find("{{", i);
        std::string text = src.substr(i, open == std::string::npos ? std::string::npos : open - i);
        if (trim_next) {
            size_t k = 0;
            while (k < text.size() && std::isspace(static_cast<unsigned char>(text[k]))) ++k;
            text.erase(0, k);
        }
        if (open == std::string::npos) {
            if (!text.empty()) items.push_back(Item{false, text, {}, i});
            break;
        }
        size_t close = CTR_TRY(action_end(src, open));
        size_t b = open + 2, e = close;
        if (b + 1 < e && src[b] == '-' && std::isspace(static_cast<unsigned char>(src[b + 1]))) {
            trim_right(text);
            b += 2;
        }
        trim_next = e >= b + 2 && src[e - 1] == '-' && std::isspace(static_cast<unsigned char>(src[e - 2]));
        if (trim_next) e -= 2;
        if (!text.empty()) items.push_back(Item{false, text, {}, i});
        size_t first = b;
        while (first < e && std::isspace(static_cast<unsigned char>(src[first]))) ++first;
        const bool comment = src.compare(first, 2, "/*") == 0;
        if (comment) {
            size_t last = e;
            while (last > first && std::isspace(static_cast<unsigned char>(src[last - 1]))) --last;
            if (last < first + 4 || src.compare(last - 2, 2, "*/") != 0) return syntax(src, open, "unclosed comment");
        } else {
            Item item{true, {}, CTR_TRY(tokenize(src, b, e)), open};
            if (item.tokens.empty()) return syntax(src, open, "missing value for command");
            items.push_back(std::move(item));
        }
        i = close + 2;
    }
    return items;
}

class Parser {
public:
    Parser(const std::string& src, std::vector<Item> items) : src_(src), items_(std::move(items)) {}

    Result<std::vector<Node>> top() {
        std::string ended;
        auto list = CTR_TRY(list_until(ended));
        if (!ended.empty()) return syntax(src_, items_[at_ - 1].pos, "unexpected {{" + ended + "}}");
        return list;
    }

private:
    // Nodes up to an {{end}} or {{else ...}} (named in `ended`, its tokens
    // left in rest_) or the end of the source (`ended` empty).
    Result<std::vector<Node>> list_until(std::string& ended) {
        std::vector<Node> out;
        ended.clear();
        while (at_ < items_.size()) {
            Item& item = items_[at_++];
            if (!item.action) {
                out.push_back(Node{Node::Text, item.text, {}, {}, {}, item.pos});
                continue;
            }
            const Token& first = item.tokens.front();
            const std::string kw = first.kind == Token::Ident ? first.text : "";
            if (kw == "end" || kw == "else") {
                ended = kw;
                rest_.assign(item.tokens.begin() + 1, item.tokens.end());
                if (kw == "end" && !rest_.empty()) return syntax(src_, item.pos, "unexpected " + rest_.front().text + " in end");
                return out;
            }
            if (kw == "if" || kw == "with" || kw == "range") {
                out.push_back(CTR_TRY(control(kw, {item.tokens.begin() + 1, item.tokens.end()}, item.pos)));
            } else if (kw == "break" || kw == "continue") {
                if (range_depth_ == 0) return syntax(src_, item.pos, "{{" + kw + "}} outside {{range}}");
                out.push_back(Node{kw == "break" ? Node::Break : Node::Continue, {}, {}, {}, {}, item.pos});
            } else if (kw == "define" || kw == "template" || kw == "block") {
                return syntax(src_, item.pos, "{{" + kw + "}} is not supported");
            } else {
                Node n{Node::Action, {}, {}, {}, {}, item.pos};
                n.pipe = CTR_TRY(pipe_of(item.tokens, item.pos));
                out.push_back(std::move(n));
            }
        }
        return out;
    }

    // if/with/range: its pipeline, body, and else (a chained `else if` ends
    // with the same {{end}}).
    Result<Node> control(const std::string& kw, std::vector<Token> tokens, size_t pos) {
        Node n{kw == "if" ? Node::If : kw == "with" ? Node::With : Node::Range, {}, {}, {}, {}, pos};
        if (tokens.empty()) return syntax(src_, pos, "missing value for " + kw);
        n.pipe = CTR_TRY(pipe_of(tokens, pos));
        if (n.kind != Node::Range && !n.pipe.vars.empty() && n.pipe.vars.size() > 1)
            return syntax(src_, pos, "too many declarations in " + kw);
        std::string ended;
        if (n.kind == Node::Range) ++range_depth_;
        n.list = CTR_TRY(list_until(ended));
        if (n.kind == Node::Range) --range_depth_;
        if (ended.empty()) return syntax(src_, pos, "unexpected EOF: {{" + kw + "}} has no {{end}}");
        if (ended == "else") {
            std::vector<Token> rest = rest_;
            if (!rest.empty() && rest.front().kind == Token::Ident && (rest.front().text == "if" || rest.front().text == "with")) {
                const std::string chained = rest.front().text;
                n.else_list.push_back(CTR_TRY(control(chained, {rest.begin() + 1, rest.end()}, pos)));
                return n;
            }
            if (!rest.empty()) return syntax(src_, pos, "unexpected " + rest.front().text + " after else");
            n.else_list = CTR_TRY(list_until(ended));
            if (ended != "end") return syntax(src_, pos, "{{" + kw + "}} has no {{end}}");
        }
        return n;
    }

    Result<Pipe> pipe_of(const std::vector<Token>& tokens, size_t pos) {
        size_t i = 0;
        auto p = CTR_TRY(pipe(tokens, i, false));
        if (i != tokens.size()) return syntax(src_, tokens[i].pos, "unexpected \"" + tokens[i].text + "\"");
        p.pos = pos;
        return p;
    }

    Result<Pipe> pipe(const std::vector<Token>& t, size_t& i, bool in_paren) {
        Pipe p;
        p.pos = i < t.size() ? t[i].pos : 0;
        auto is = [&](size_t k, Token::Kind kind) { return k < t.size() && t[k].kind == kind; };
        if (is(i, Token::Var) && (is(i + 1, Token::Declare) || is(i + 1, Token::Assign))) {
            p.vars = {t[i].text};
            p.assign = is(i + 1, Token::Assign);
            i += 2;
        } else if (is(i, Token::Var) && is(i + 1, Token::Comma) && is(i + 2, Token::Var) && (is(i + 3, Token::Declare) || is(i + 3, Token::Assign))) {
            p.vars = {t[i].text, t[i + 2].text};
            p.assign = is(i + 3, Token::Assign);
            i += 4;
        }
        while (true) {
            Command cmd;
            cmd.pos = i < t.size() ? t[i].pos : p.pos;
            while (i < t.size() && t[i].kind != Token::Bar && t[i].kind != Token::RParen) cmd.args.push_back(CTR_TRY(operand(t, i)));
            if (cmd.args.empty()) return syntax(src_, cmd.pos, "missing value for command");
            p.cmds.push_back(std::move(cmd));
            if (is(i, Token::Bar)) {
                ++i;
                continue;
            }
            break;
        }
        if (in_paren != is(i, Token::RParen)) {
            if (in_paren) return syntax(src_, p.pos, "unclosed left paren");
            return syntax(src_, t[i].pos, "unexpected right paren");
        }
        return p;
    }

    Result<Arg> operand(const std::vector<Token>& t, size_t& i) {
        const Token& tok = t[i++];
        Arg a;
        a.pos = tok.pos;
        a.text = tok.text;
        switch (tok.kind) {
        case Token::Dot: a.kind = Arg::Dot; break;
        case Token::Field: a.kind = Arg::Field; a.chain.push_back(tok.text.substr(1)); break;
        case Token::Var: a.kind = Arg::Var; a.name = tok.text; break;
        case Token::Ident:
            if (!find_function(tok.text)) return syntax(src_, tok.pos, "function \"" + tok.text + "\" not defined");
            a.kind = Arg::Func;
            a.name = tok.text;
            break;
        case Token::Literal: a.kind = Arg::Literal; a.literal = tok.value; break;
        case Token::LParen:
            a.kind = Arg::Sub;
            a.sub = std::make_shared<Pipe>(CTR_TRY(pipe(t, i, true)));
            ++i;  // the ")"
            a.text = "(...)";
            break;
        default: return syntax(src_, tok.pos, "unexpected \"" + tok.text + "\" in operand");
        }
        while (i < t.size() && t[i].kind == Token::Field && t[i].glued) {
            if (a.kind == Arg::Literal || a.kind == Arg::Func) return syntax(src_, t[i].pos, "unexpected " + t[i].text);
            a.chain.push_back(t[i].text.substr(1));
            a.text += t[i].text;
            ++i;
        }
        return a;
    }

    const std::string& src_;
    std::vector<Item> items_;
    size_t at_ = 0;
    int range_depth_ = 0;
    std::vector<Token> rest_;
};

}  // namespace

Result<Template> Template::parse(std::string_view text) {
    Template t;
    t.source_ = std::make_shared<const std::string>(text);
    auto items = CTR_TRY(scan(*t.source_));
    Parser p(*t.source_, std::move(items));
    t.root_ = std::make_shared<const std::vector<Node>>(CTR_TRY(p.top()));
    return t;
}

std::string unescape_format(std::string_view format) {
    std::string out;
    for (size_t i = 0; i < format.size(); ++i) {
        if (format[i] == '\\' && i + 1 < format.size() && (format[i + 1] == 't' || format[i + 1] == 'n')) {
            out += format[++i] == 't' ? '\t' : '\n';
            continue;
        }
        out += format[i];
    }
    return out;
}

}  // namespace ctr::cli::gotmpl
