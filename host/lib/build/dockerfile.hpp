// A Dockerfile read into instructions, with no I/O: parser directives
// (`# syntax=`, `# escape=`), comments, line continuations, flags
// (`--from=x`), exec and shell forms, and heredocs (`<<EOF`, `<<-EOF`,
// `<<"EOF"`). Errors name the file, line and column:
// "Dockerfile:3:1: unknown instruction: COPYY".
//
// What each instruction means, and which flags it takes, is stages.hpp's.
#pragma once

#include <ctr/sdk/result.hpp>

#include <string>
#include <utility>
#include <vector>

namespace ctr::build {

struct Heredoc {
    std::string name;     // the word after << ("EOF")
    std::string content;  // the lines between, each ending in '\n'
    bool expand = true;   // false when the name was quoted: no $ expansion
};

struct Instruction {
    std::string keyword;  // upper case: "RUN", "COPY", ...
    // --name=value flags before the arguments, in order (--mount may repeat).
    std::vector<std::pair<std::string, std::string>> flags;
    bool exec_form = false;         // the arguments were a JSON array
    std::vector<std::string> args;  // exec form: the array; else the words (quotes kept)
    std::string text;               // shell form: the arguments as one string (continuations joined)
    std::vector<Heredoc> heredocs;
    std::string original;           // the whole instruction as written (for history)
    int line = 0;                   // 1-based, where the instruction starts
    int column = 1;

    // The value of flag `name`, the last one given; `fallback` when absent.
    std::string flag(const std::string& name, const std::string& fallback = "") const;
    bool has_flag(const std::string& name) const;
};

struct Dockerfile {
    std::string filename = "Dockerfile";
    char escape = '\\';
    std::string syntax;  // `# syntax=` as given (we note it; the frontend is ours)
    std::vector<Instruction> instructions;
};

Result<Dockerfile> parse_dockerfile(const std::string& text, const std::string& filename = "Dockerfile");

// Splits `text` into words at unquoted whitespace, keeping quotes and
// escapes in the words (expansion removes them later): BuildKit's rule for
// the arguments of ENV, LABEL, ARG, COPY and the like.
std::vector<std::string> split_words(const std::string& text, char escape);

}  // namespace ctr::build
