// The top-level words docker users type for commands that live in a group
// here: `container images` is `container image ls`, `rmi` is `image rm`,
// `pull`, `push`, `tag`, `save`, `load` and `import` are the image commands,
// `login` and `logout` the registry's. Expanded in the argument list before
// parsing, so each has one definition, one help and one behaviour.
#pragma once

#include <string>
#include <vector>

namespace ctr::cli {

// `args` with the command at `at` expanded, when it is a shortcut.
void expand_shortcut(std::vector<std::string>& args, size_t at);

// The shortcut words themselves, for completion.
std::vector<std::string> shortcut_words();

// One line for the top-level help: the shortcuts and what they stand for.
std::string shortcuts_help();

}  // namespace ctr::cli
