#include "build/stages.hpp"

#include "build/shell_words.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

namespace ctr::build {

namespace {

// The flags each instruction takes (BuildKit's names); any other is refused.
const std::map<std::string, std::set<std::string>>& allowed_flags() {
    static const std::map<std::string, std::set<std::string>> f = {
        {"FROM", {"platform"}},
        {"RUN", {"mount", "network", "security"}},
        {"COPY", {"from", "chown", "chmod", "link"}},
        {"ADD", {"chown", "chmod", "link", "checksum", "keep-git-dir"}},
        {"HEALTHCHECK", {"interval", "timeout", "start-period", "start-interval", "retries"}},
    };
    return f;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

Status check_flags(const Dockerfile& df, const Instruction& ins) {
    static const std::set<std::string> none;
    auto it = allowed_flags().find(ins.keyword);
    const auto& ok_flags = it == allowed_flags().end() ? none : it->second;
    for (const auto& [name, value] : ins.flags) {
        if (!ok_flags.count(name)) return instruction_error(df, ins, "unknown flag: --" + name);
        if (name != "mount" && std::count_if(ins.flags.begin(), ins.flags.end(), [&](const auto& f) { return f.first == name; }) > 1)
            return instruction_error(df, ins, "flag --" + name + " given more than once");
    }
    if (ins.has_flag("network")) {
        std::string n = ins.flag("network");
        if (n != "none" && n != "default" && n != "host")
            return instruction_error(df, ins, "--network=" + n + ": it must be none, default or host");
    }
    return ok();
}

Status check_args(const Dockerfile& df, const Instruction& ins) {
    const std::string& k = ins.keyword;
    size_t n = ins.args.size();
    auto need = [&](bool good, const std::string& what) -> Status {
        if (good) return ok();
        return instruction_error(df, ins, k + " " + what);
    };
    if (k == "FROM") {
        if (n != 1 && !(n == 3 && lower(ins.args[1]) == "as")) return need(false, "takes an image and an optional \"AS name\"");
        if (n == 3) {
            static const std::regex re("[a-z][a-z0-9._-]*");
            if (!std::regex_match(lower(ins.args[2]), re))
                return instruction_error(df, ins, "invalid stage name \"" + ins.args[2] + "\": it must start with a letter and hold letters, digits, '.', '_' and '-'");
        }
        return ok();
    }
    if (k == "WORKDIR" || k == "USER" || k == "STOPSIGNAL") return need(n == 1, "takes exactly one argument");
    if (k == "COPY" || k == "ADD") return need(n >= 2, "takes at least one source and a destination");
    if (k == "RUN" || k == "EXPOSE" || k == "VOLUME" || k == "ARG" || k == "ENV" || k == "LABEL" || k == "MAINTAINER" ||
        k == "ONBUILD")
        return need(ins.exec_form || n >= 1 || !ins.heredocs.empty(), "needs at least one argument");
    if (k == "SHELL") return need(ins.exec_form && n >= 1, "takes a JSON array: SHELL [\"executable\", \"parameters\"]");
    if (k == "HEALTHCHECK") {
        if (n == 0) return need(false, "takes NONE or CMD followed by a command");
        std::string first = ins.exec_form ? "" : lower(ins.args[0]);
        if (first != "none" && first != "cmd") return need(false, "takes NONE or CMD followed by a command");
        if (first == "none" && n > 1) return need(false, "NONE takes no other arguments");
        if (first == "cmd" && n < 2) return need(false, "CMD needs a command");
        return ok();
    }
    if (k == "ONBUILD") return ok();
    return ok();
}

Status check_onbuild(const Dockerfile& df, const Instruction& ins) {
    if (ins.keyword != "ONBUILD") return ok();
    std::string trigger = ins.args.empty() ? "" : lower(ins.args[0]);
    if (trigger == "onbuild" || trigger == "from" || trigger == "maintainer")
        return instruction_error(df, ins, "ONBUILD " + ins.args[0] + " is not allowed");
    return ok();
}

}  // namespace

Status check_instruction(const Dockerfile& df, const Instruction& ins) {
    CTR_TRY_STATUS(check_flags(df, ins));
    CTR_TRY_STATUS(check_args(df, ins));
    return check_onbuild(df, ins);
}

Error instruction_error(const Dockerfile& df, const Instruction& ins, const std::string& message) {
    return make_error(CTR_E_INVALID_ARGUMENT,
                      df.filename + ":" + std::to_string(ins.line) + ":" + std::to_string(ins.column) + ": " + message);
}

Result<std::vector<std::pair<std::string, std::optional<std::string>>>> name_values(const Dockerfile& df, const Instruction& ins) {
    std::vector<std::pair<std::string, std::optional<std::string>>> out;
    const auto& w = ins.args;
    bool legacy = (ins.keyword == "ENV" || ins.keyword == "LABEL") && !w.empty() && w[0].find('=') == std::string::npos;
    if (legacy) {
        // ENV KEY value words: the rest of the line, as written, is the value.
        std::string rest = ins.text.substr(std::min(ins.text.size(), ins.text.find(w[0]) + w[0].size()));
        rest.erase(0, rest.find_first_not_of(" \t") == std::string::npos ? rest.size() : rest.find_first_not_of(" \t"));
        if (ins.keyword == "ENV" && w.size() < 2) return instruction_error(df, ins, "ENV " + w[0] + " needs a value (ENV NAME=VALUE)");
        out.emplace_back(w[0], rest);
        return out;
    }
    for (const auto& word : w) {
        size_t eq = word.find('=');
        if (eq == std::string::npos) {
            if (ins.keyword != "ARG") return instruction_error(df, ins, ins.keyword + " " + word + ": expected NAME=VALUE");
            out.emplace_back(word, std::nullopt);
        } else {
            if (eq == 0) return instruction_error(df, ins, ins.keyword + " " + word + ": the name is empty");
            out.emplace_back(word.substr(0, eq), word.substr(eq + 1));
        }
    }
    return out;
}

std::optional<size_t> Plan::stage_named(const std::string& key) const {
    std::string k = lower(key);
    for (const auto& s : stages)
        if (!s.name.empty() && s.name == k) return s.index;
    if (!k.empty() && std::all_of(k.begin(), k.end(), [](unsigned char c) { return std::isdigit(c); }) && k.size() < 6) {
        size_t i = std::stoul(k);
        if (i < stages.size()) return i;
    }
    return std::nullopt;
}

Result<std::vector<size_t>> Plan::stages_for(const std::string& target) const {
    if (stages.empty()) return make_error(CTR_E_INVALID_ARGUMENT, file.filename + ": no FROM instruction: nothing to build");
    size_t last = stages.size() - 1;
    if (!target.empty()) {
        auto t = stage_named(target);
        if (!t || lower(target) != stages[*t].name) {
            if (!t || std::to_string(*t) != target) return make_error(CTR_E_NOT_FOUND, "target stage \"" + target + "\" could not be found");
        }
        last = *t;
    }
    std::set<size_t> want = {last};
    for (size_t i = last + 1; i-- > 0;)
        if (want.count(i))
            for (size_t n : stages[i].needs) want.insert(n);
    return std::vector<size_t>(want.begin(), want.end());
}

Result<Plan> plan_build(const Dockerfile& df, const std::map<std::string, std::string>& build_args,
                        const std::map<std::string, std::string>& automatic) {
    Plan plan;
    plan.file = df;
    // The global ARGs' values, for FROM lines.
    std::map<std::string, std::string> globals;
    Lookup lookup = [&](const std::string& n) -> std::optional<std::string> {
        auto it = globals.find(n);
        if (it != globals.end()) return it->second;
        auto a = automatic.find(n);
        if (a != automatic.end()) return a->second;
        return std::nullopt;
    };
    for (const auto& ins : df.instructions) {
        CTR_TRY_STATUS(check_instruction(df, ins));
        if (ins.keyword == "FROM") {
            Stage s;
            s.index = plan.stages.size();
            s.from = ins;
            auto base = expand_word(ins.args[0], lookup, df.escape);
            if (!base) return instruction_error(df, ins, base.error().message);
            if (base->empty()) return instruction_error(df, ins, "base name (" + ins.args[0] + ") should not be blank");
            s.base = *base;
            if (ins.has_flag("platform")) {
                auto p = expand_word(ins.flag("platform"), lookup, df.escape);
                if (!p) return instruction_error(df, ins, p.error().message);
                s.platform = *p;
            }
            if (ins.args.size() == 3) {
                s.name = lower(ins.args[2]);
                if (plan.stage_named(s.name) && !std::all_of(s.name.begin(), s.name.end(), ::isdigit))
                    return instruction_error(df, ins, "duplicate stage name \"" + ins.args[2] + "\"");
            }
            if (auto prev = plan.stage_named(s.base); prev && lower(s.base) == plan.stages[*prev].name) {
                s.base_stage = prev;
                s.needs.insert(*prev);
            }
            plan.stages.push_back(std::move(s));
            continue;
        }
        if (plan.stages.empty()) {
            if (ins.keyword != "ARG")
                return instruction_error(df, ins, ins.keyword + " before the first FROM: only ARG may come before it");
            auto pairs = CTR_TRY(name_values(df, ins));
            for (const auto& [name, value] : pairs) {
                auto given = build_args.find(name);
                if (given != build_args.end()) globals[name] = given->second;
                else if (value) {
                    auto v = expand_word(*value, lookup, df.escape);
                    if (!v) return instruction_error(df, ins, v.error().message);
                    globals[name] = *v;
                }
            }
            plan.global_args.push_back(ins);
            continue;
        }
        if (ins.keyword == "ENV" || ins.keyword == "LABEL" || ins.keyword == "ARG") (void)CTR_TRY(name_values(df, ins));
        Stage& s = plan.stages.back();
        // Stages this one reads; a --from that is no stage is an image.
        std::vector<std::string> from_refs;
        if (ins.keyword == "COPY" && ins.has_flag("from")) from_refs.push_back(ins.flag("from"));
        if (ins.keyword == "RUN")
            for (const auto& [name, value] : ins.flags)
                if (name == "mount") {
                    std::smatch m;
                    static const std::regex re("(?:^|,)from=([^,]+)");
                    if (std::regex_search(value, m, re)) from_refs.push_back(m[1].str());
                }
        for (const auto& ref : from_refs) {
            auto st = plan.stage_named(ref);
            if (st && *st == s.index) return instruction_error(df, ins, "--from=" + ref + " names the stage it is in");
            if (st) s.needs.insert(*st);
        }
        s.steps.push_back(ins);
    }
    return plan;
}

}  // namespace ctr::build
