#include "cli/shortcuts.hpp"

#include <utility>

namespace ctr::cli {

namespace {

const std::pair<const char*, std::vector<std::string>> kShortcuts[] = {
    {"images", {"image", "ls"}}, {"rmi", {"image", "rm"}},         {"pull", {"image", "pull"}},
    {"push", {"image", "push"}}, {"tag", {"image", "tag"}},        {"save", {"image", "save"}},
    {"load", {"image", "load"}}, {"import", {"image", "import"}}, {"login", {"registry", "login"}},
    {"logout", {"registry", "logout"}},
};

}  // namespace

void expand_shortcut(std::vector<std::string>& args, size_t at) {
    if (at >= args.size()) return;
    for (const auto& [word, expansion] : kShortcuts) {
        if (args[at] != word) continue;
        args.erase(args.begin() + static_cast<long>(at));
        args.insert(args.begin() + static_cast<long>(at), expansion.begin(), expansion.end());
        return;
    }
}

std::vector<std::string> shortcut_words() {
    std::vector<std::string> out;
    for (const auto& [word, expansion] : kShortcuts) out.push_back(word);
    return out;
}

std::string shortcuts_help() {
    std::string out = "Shortcuts, as docker's:";
    for (const auto& [word, expansion] : kShortcuts) out += std::string(" ") + word + " (" + expansion[0] + " " + expansion[1] + "),";
    out.back() = '.';
    return out + " ps is ls.";
}

}  // namespace ctr::cli
