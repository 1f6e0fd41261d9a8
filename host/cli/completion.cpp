// Shell completion, generated from the command definitions: `container
// completion bash|zsh|fish` prints a script whose only logic is to ask
// `container __complete WORDS...` for the candidates of the last word. That
// hidden command walks the same CLI11 tree the parser uses (commands,
// aliases, flags, which flags take a value) and adds the names of
// containers, images, networks and volumes from a daemon that already runs.
#include "cli/app.hpp"
#include "cli/shortcuts.hpp"

#include <cstdio>
#include <memory>
#include <set>

namespace ctr::cli {

using nlohmann::json;

namespace {

enum class Names { None, Containers, Images, Networks, Volumes };

// What the positional arguments of a command name (by its path).
Names names_for(const std::string& path, size_t positional) {
    static const std::set<std::string> containers = {
        "attach", "exec", "inspect", "kill", "logs", "port", "rename", "restart", "rm", "start", "stop",
        "stats", "top", "wait", "export", "pause", "unpause", "update", "commit", "diff"};
    static const std::set<std::string> first_only = {"exec", "rename", "commit", "port"};
    if (containers.count(path)) return first_only.count(path) && positional > 0 ? Names::None : Names::Containers;
    if ((path == "run" || path == "create") && positional == 0) return Names::Images;
    if (path == "image rm" || path == "image inspect" || path == "image push" || path == "image save" || path == "image history" ||
        path == "history" || (path == "image tag" && positional == 0))
        return Names::Images;
    if (path == "network rm" || path == "network inspect" || ((path == "network connect" || path == "network disconnect") && positional == 0))
        return Names::Networks;
    if ((path == "network connect" || path == "network disconnect") && positional == 1) return Names::Containers;
    if (path == "volume rm" || path == "volume inspect") return Names::Volumes;
    return Names::None;
}

std::vector<std::string> object_names(const Globals& g, Names kind) {
    if (kind == Names::None) return {};
    auto client = existing_daemon(g);  // completion never starts a daemon
    static const std::map<Names, std::pair<const char*, const char*>> source = {
        {Names::Containers, {"/v1/containers?all=1", "name"}},
        {Names::Images, {"/v1/images", "reference"}},
        {Names::Networks, {"/v1/networks", "name"}},
        {Names::Volumes, {"/v1/volumes", "name"}}};
    auto r = client.call("GET", source.at(kind).first);
    std::vector<std::string> out;
    if (!r || !r->is_array()) return out;
    for (const auto& item : *r) out.push_back(item.value(source.at(kind).second, ""));
    return out;
}

CLI::App* subcommand_named(CLI::App* cur, const std::string& word) {
    for (auto* s : cur->get_subcommands({}))
        if (!s->get_name().empty() && s->check_name(word)) return s;
    return nullptr;
}

// The flags of `cmd` ("--name", "-n").
std::vector<std::string> flags_of(const CLI::App* cmd) {
    std::vector<std::string> out;
    for (const auto* o : cmd->get_options()) {
        for (const auto& l : o->get_lnames()) out.push_back("--" + l);
        for (const auto& s : o->get_snames()) out.push_back("-" + s);
    }
    return out;
}

std::vector<std::string> candidates(CLI::App& app, const Globals& g, std::vector<std::string> words) {
    const std::string partial = words.empty() ? "" : words.back();
    if (!words.empty()) words.pop_back();
    expand_shortcut(words, 0);
    CLI::App* cur = &app;
    std::string path, value_of;
    size_t positional = 0;
    bool options_done = false;
    for (const auto& w : words) {
        if (!value_of.empty()) {
            value_of.clear();
            continue;
        }
        if (w == "--") {
            options_done = true;
            continue;
        }
        if (!options_done && w.size() > 1 && w[0] == '-') {
            const auto* opt = cur->get_option_no_throw(w.substr(0, w.find('=')));
            if (opt && opt->get_expected_max() > 0 && w.find('=') == std::string::npos && w.rfind("--", 0) == 0) value_of = w;
            else if (opt && opt->get_expected_max() > 0 && w.size() == 2) value_of = w;
            continue;
        }
        if (positional == 0) {
            if (auto* sub = subcommand_named(cur, w)) {
                cur = sub;
                path += (path.empty() ? "" : " ") + sub->get_name();
                continue;
            }
        }
        ++positional;
    }
    std::vector<std::string> out;
    if (!value_of.empty()) {
        if (value_of == "--network" || value_of == "--net") out = object_names(g, Names::Networks);
    } else if (!partial.empty() && partial[0] == '-') {
        out = flags_of(cur);
    } else {
        if (positional == 0) {
            for (auto* s : cur->get_subcommands({})) {
                if (s->get_group().empty() || s->get_name().empty()) continue;  // hidden
                out.push_back(s->get_name());
                for (const auto& a : s->get_aliases()) out.push_back(a);
            }
            if (cur == &app)
                for (const auto& w : shortcut_words()) out.push_back(w);
        }
        for (auto& n : object_names(g, names_for(path, positional))) out.push_back(n);
    }
    std::vector<std::string> matching;
    for (auto& c : out)
        if (c.rfind(partial, 0) == 0) matching.push_back(c);
    return matching;
}

const char* kBash = R"(# bash completion for container (container completion bash)
_container() {
    local IFS=$'\n'
    COMPREPLY=($(container __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _container container
)";

const char* kZsh = R"(#compdef container
# zsh completion for container (container completion zsh)
_container() {
    local -a words_after
    words_after=("${(@)words[2,CURRENT]}")
    local -a reply
    reply=("${(@f)$(container __complete "${words_after[@]}" 2>/dev/null)}")
    compadd -- "${reply[@]}"
}
compdef _container container
)";

const char* kFish = R"(# fish completion for container (container completion fish)
complete -c container -f -a '(container __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
)";

}  // namespace

void add_completion_commands(CLI::App& app, Globals& g) {
    auto* completion = app.add_subcommand("completion", "print a shell's completion script: bash, zsh or fish");
    static std::string shell;
    completion->add_option("shell", shell, "bash, zsh or fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
    completion->footer("Load it with: source <(container completion bash)");
    on_run(completion, g, [] {
        std::fputs(shell == "bash" ? kBash : shell == "zsh" ? kZsh : kFish, stdout);
        return 0;
    });

    auto* complete = app.add_subcommand("__complete", "")->group("");  // hidden: what the scripts call
    static std::vector<std::string> words;
    complete->add_option("words", words);  // main.cpp puts "--" before them
    complete->callback([&app, &g] {
        for (const auto& c : candidates(app, g, words)) std::printf("%s\n", c.c_str());
        g.exit_code = 0;
    });
}

}  // namespace ctr::cli
