#include "cli/command_path.hpp"

#include <algorithm>

namespace ctr::cli {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::vector<const CLI::App*> named_subcommands(const CLI::App* app) {
    return app->get_subcommands([](const CLI::App* s) { return !s->get_name().empty(); });
}

const CLI::App* find_subcommand(const CLI::App* app, const std::string& word) {
    for (const auto* s : named_subcommands(app)) {
        const auto& aliases = s->get_aliases();
        if (s->get_name() == word || std::find(aliases.begin(), aliases.end(), word) != aliases.end()) return s;
    }
    return nullptr;
}

// The option `word` names in `app` or, as the CLI falls through, a parent.
const CLI::Option* find_option(const CLI::App* app, const std::string& word) {
    for (; app; app = app->get_parent())
        if (const auto* o = app->get_option_no_throw(word)) return o;
    return nullptr;
}

std::string nearest_of(const CLI::App* app, const std::string& word) {
    std::string best;
    size_t best_distance = 3;  // farther than 2 edits is no suggestion
    for (const auto* s : named_subcommands(app)) {
        std::vector<std::string> names = s->get_aliases();
        names.insert(names.begin(), s->get_name());
        for (const auto& n : names) {
            size_t d = edit_distance(word, n);
            if (d < best_distance && d < std::max(word.size(), n.size())) {
                best_distance = d;
                best = n;
            }
        }
    }
    return best;
}

}  // namespace

CommandPath locate_command(const CLI::App& app, const std::vector<std::string>& args) {
    CommandPath path;
    const CLI::App* current = &app;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& word = args[i];
        if (word == "--") break;
        if (word.size() > 1 && word[0] == '-') {
            if (word.find('=') != std::string::npos) continue;
            const auto* o = find_option(current, word);
            if (o && o->get_items_expected_min() > 0) ++i;  // its value is no command
            continue;
        }
        if (named_subcommands(current).empty()) break;
        if (const auto* s = find_subcommand(current, word)) {
            path.names.push_back(s->get_name());
            current = s;
            continue;
        }
        if (current->get_require_subcommand_min() > 0) {
            path.unknown = word;
            path.nearest = nearest_of(current, word);
        }
        break;  // a positional argument of the command found so far
    }
    return path;
}

std::string command_line_of(const CommandPath& path) {
    std::string line = "container";
    for (const auto& n : path.names) line += " " + n;
    return line;
}

}  // namespace ctr::cli
