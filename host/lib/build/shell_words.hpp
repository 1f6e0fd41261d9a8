// Word expansion as BuildKit does it for ADD, COPY, ENV, EXPOSE, FROM,
// LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR and ARG: quotes ('...' literal,
// "..." with $ expanded), the escape character, and $name, ${name},
// ${name:-word}, ${name-word}, ${name:+word}, ${name+word}, ${name:?msg},
// ${name?msg}. An unset variable is empty. RUN, CMD and ENTRYPOINT are not
// expanded: their shell does it.
#pragma once

#include <ctr/sdk/result.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ctr::build {

// A variable's value, or nullopt when unset.
using Lookup = std::function<std::optional<std::string>(const std::string&)>;

// One word: quotes removed, variables expanded, never split.
Result<std::string> expand_word(const std::string& word, const Lookup& lookup, char escape = '\\');

// Words: split at unquoted whitespace, after expansion too (an unquoted
// "$PORTS" of "80 443" gives two words), quotes removed.
Result<std::vector<std::string>> expand_words(const std::string& text, const Lookup& lookup, char escape = '\\');

}  // namespace ctr::build
