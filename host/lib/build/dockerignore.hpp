// .dockerignore: Go's filepath.Match patterns ('*', '?', '[...]', '\'
// escapes) plus '**' for any number of directories, one per line; '#'
// starts a comment line; '!' re-includes. The last pattern that matches a
// path decides, and a pattern that matches a directory matches all below it.
#pragma once

#include <ctr/sdk/result.hpp>

#include <regex>
#include <string>
#include <vector>

namespace ctr::build {

class IgnoreRules {
public:
    static Result<IgnoreRules> parse(const std::string& text);
    // `path`: relative to the context, '/'-separated ("src/a.c").
    bool excluded(const std::string& path) const;
    // Whether a '!' pattern could bring back something under an excluded
    // directory (then the walk must still look inside it).
    bool has_exceptions() const { return exceptions_; }
    bool empty() const { return rules_.empty(); }

private:
    struct Rule {
        std::regex re;
        bool exception = false;
    };
    std::vector<Rule> rules_;
    bool exceptions_ = false;
};

}  // namespace ctr::build
