#include "build/config_edit.hpp"

#include "build/stages.hpp"

#include <cctype>
#include <filesystem>
#include <optional>
#include <set>

namespace ctr::build {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string upper_case(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// Go's durations as HEALTHCHECK gives them ("30s", "1m30s", "500ms"), in ns.
std::optional<int64_t> duration_ns(const std::string& s) {
    int64_t total = 0;
    size_t i = 0;
    if (s.empty()) return std::nullopt;
    while (i < s.size()) {
        size_t j = i;
        while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
        if (j == i) return std::nullopt;
        double v = std::stod(s.substr(i, j - i));
        size_t k = j;
        while (k < s.size() && std::isalpha(static_cast<unsigned char>(s[k]))) ++k;
        std::string unit = s.substr(j, k - j);
        double scale = unit == "ns" ? 1 : unit == "us" ? 1e3 : unit == "ms" ? 1e6 : unit == "s" ? 1e9 : unit == "m" ? 60e9 : unit == "h" ? 3600e9 : -1;
        if (scale < 0) return std::nullopt;
        total += static_cast<int64_t>(v * scale);
        i = k;
    }
    return total;
}

// HEALTHCHECK NONE, or CMD with its flags, as the config's Healthcheck.
Result<json> healthcheck(const Dockerfile& file, const Instruction& ins) {
    json hc;
    if (upper_case(ins.args[0]) == "NONE") return json{{"Test", {"NONE"}}};
    std::string rest = ins.text.substr(ins.text.find_first_of(" \t") + 1);
    rest.erase(0, rest.find_first_not_of(" \t"));
    json test = json::array({"CMD-SHELL", rest});
    if (!rest.empty() && rest[0] == '[') {
        json j = json::parse(rest, nullptr, false);
        if (j.is_array()) {
            test = json::array({"CMD"});
            for (const auto& e : j) test.push_back(e);
        }
    }
    hc = {{"Test", test}};
    for (const auto& [flag, field] : std::vector<std::pair<std::string, std::string>>{
             {"interval", "Interval"}, {"timeout", "Timeout"}, {"start-period", "StartPeriod"}, {"start-interval", "StartInterval"}}) {
        if (!ins.has_flag(flag)) continue;
        auto ns = duration_ns(ins.flag(flag));
        if (!ns) return instruction_error(file, ins, "--" + flag + "=" + ins.flag(flag) + ": not a duration (30s, 1m30s)");
        hc[field] = *ns;
    }
    if (ins.has_flag("retries")) {
        const std::string r = ins.flag("retries");
        if (r.empty() || r.find_first_not_of("0123456789") != std::string::npos || r.size() > 6)
            return instruction_error(file, ins, "--retries=" + r + ": not a number");
        hc["Retries"] = std::stoi(r);
    }
    return hc;
}

// ENV wins over an ARG of the same name; `env` is the config's Env as the
// instruction found it.
Lookup env_then(json env, const Lookup& args) {
    return [env = std::move(env), args](const std::string& name) -> std::optional<std::string> {
        if (env.is_array())
            for (const auto& e : env)
                if (e.is_string() && e.get<std::string>().rfind(name + "=", 0) == 0) return e.get<std::string>().substr(name.size() + 1);
        return args ? args(name) : std::nullopt;
    };
}

// EXPOSE's ports ("80" is 80/tcp) or VOLUME's paths, added to the config.
Result<std::string> add_items(json& cfg, const Dockerfile& file, const Instruction& ins, const Lookup& lookup) {
    std::vector<std::string> items;
    if (ins.exec_form) {
        items = ins.args;
    } else {
        auto w = expand_words(ins.text, lookup, file.escape);
        if (!w) return instruction_error(file, ins, w.error().message);
        items = *w;
    }
    for (auto item : items) {
        if (ins.keyword == "EXPOSE") {
            if (item.find('/') == std::string::npos) item += "/tcp";
            cfg["ExposedPorts"][item] = json::object();
        } else {
            cfg["Volumes"][item] = json::object();
        }
    }
    return json(items).dump();
}

}  // namespace

Result<std::string> apply_config_instruction(json& image, const Dockerfile& file, const Instruction& ins, const Lookup& args, bool& cmd_set) {
    if (!image["config"].is_object()) image["config"] = json::object();
    json& cfg = image["config"];
    const std::string& k = ins.keyword;
    const Lookup lookup = env_then(cfg.value("Env", json::array()), args);
    auto word = [&](const std::string& w) -> Result<std::string> {
        auto r = expand_word(w, lookup, file.escape);
        if (!r) return instruction_error(file, ins, r.error().message);
        return *r;
    };
    auto shell_or_exec = [&]() -> json {
        if (ins.exec_form) return json(ins.args);
        json shell = cfg.value("Shell", json::array({"/bin/sh", "-c"}));
        if (shell.empty()) shell = json::array({"/bin/sh", "-c"});
        shell.push_back(ins.text);
        return shell;
    };
    if (k == "ENV" || k == "LABEL") {
        // Every value of one ENV sees the values before it (lookup's copy).
        auto pairs = CTR_TRY(name_values(file, ins));
        for (const auto& [name, value] : pairs) {
            std::string n = CTR_TRY(word(name));
            std::string v = CTR_TRY(word(value.value_or("")));
            if (k == "ENV") set_env(cfg["Env"], n, v);
            else cfg["Labels"][n] = v;
        }
        return k == "ENV" ? cfg["Env"].dump() : cfg["Labels"].dump();
    }
    if (k == "WORKDIR") {
        std::string dir = CTR_TRY(word(ins.args[0]));
        // As BuildKit: a relative one joined to the current and cleaned; an
        // absolute one kept as written.
        if (dir.empty() || dir[0] != '/') {
            dir = (fs::path(cfg.value("WorkingDir", std::string("/"))) / dir).lexically_normal().string();
            while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
        }
        cfg["WorkingDir"] = dir;
        return dir;
    }
    if (k == "USER" || k == "STOPSIGNAL") {
        std::string v = CTR_TRY(word(ins.args[0]));
        cfg[k == "USER" ? "User" : "StopSignal"] = v;
        return v;
    }
    if (k == "CMD") {
        cfg["Cmd"] = shell_or_exec();
        cmd_set = true;
        return cfg["Cmd"].dump();
    }
    if (k == "ENTRYPOINT") {
        cfg["Entrypoint"] = shell_or_exec();
        if (!cmd_set) cfg.erase("Cmd");  // an inherited CMD does not outlive a new ENTRYPOINT
        return cfg["Entrypoint"].dump();
    }
    if (k == "EXPOSE" || k == "VOLUME") return add_items(cfg, file, ins, lookup);
    if (k == "SHELL") {
        cfg["Shell"] = ins.args;
        return cfg["Shell"].dump();
    }
    if (k == "HEALTHCHECK") {
        cfg["Healthcheck"] = CTR_TRY(healthcheck(file, ins));
        return cfg["Healthcheck"].dump();
    }
    if (k == "MAINTAINER") {
        image["author"] = ins.text;
        return ins.text;
    }
    if (k == "ONBUILD") {
        cfg["OnBuild"].push_back(ins.text);
        return cfg["OnBuild"].dump();
    }
    return instruction_error(file, ins, k + " does not change an image's config");
}

void set_env(json& env, const std::string& name, const std::string& value) {
    if (!env.is_array()) env = json::array();
    for (auto& e : env)
        if (e.is_string() && e.get<std::string>().rfind(name + "=", 0) == 0) {
            e = name + "=" + value;
            return;
        }
    env.push_back(name + "=" + value);
}

Status apply_changes(json& image, const std::vector<std::string>& changes) {
    static const std::set<std::string> allowed = {"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "USER", "VOLUME", "WORKDIR"};
    bool cmd_set = false;
    for (const auto& change : changes) {
        auto df = parse_dockerfile(change + "\n", "--change");
        if (!df) return make_error(CTR_E_INVALID_ARGUMENT, "--change \"" + change + "\": " + df.error().message);
        if (df->instructions.size() != 1)
            return make_error(CTR_E_INVALID_ARGUMENT, "--change \"" + change + "\": one instruction per change");
        const auto& ins = df->instructions[0];
        if (!allowed.count(ins.keyword))
            return make_error(CTR_E_INVALID_ARGUMENT, "--change \"" + change + "\": " + ins.keyword +
                                                          " is not a change commit takes (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR)");
        if (auto checked = check_instruction(*df, ins); !checked)
            return make_error(CTR_E_INVALID_ARGUMENT, "--change \"" + change + "\": " + checked.error().message);
        auto applied = apply_config_instruction(image, *df, ins, {}, cmd_set);
        if (!applied) return make_error(CTR_E_INVALID_ARGUMENT, "--change \"" + change + "\": " + applied.error().message);
    }
    return ok();
}

}  // namespace ctr::build
