// The parsed form of a Go template (go_template.hpp), shared by its parser
// and its executor.
#pragma once

#include "cli/go_template.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace ctr::cli::gotmpl {

struct Pipe;

// One operand of a command: `.A.B`, `$x.A`, `len`, `"text"`, `(pipe).A`.
struct Arg {
    enum Kind { Dot, Field, Var, Func, Literal, Sub } kind = Dot;
    std::string name;                // Var: "$x" ("$" for the root); Func: its name
    std::vector<std::string> chain;  // fields after it: .A.B -> {"A", "B"}
    nlohmann::json literal;
    std::shared_ptr<Pipe> sub;
    size_t pos = 0;                  // offset in the source, for errors
    std::string text;                // as written, for errors ("<.A.B>")
};

struct Command {
    std::vector<Arg> args;
    size_t pos = 0;
};

struct Pipe {
    std::vector<std::string> vars;  // declared or assigned: {"$i", "$v"}
    bool assign = false;            // = rather than :=
    std::vector<Command> cmds;
    size_t pos = 0;
};

struct Node {
    enum Kind { Text, Action, If, Range, With, Break, Continue } kind = Text;
    std::string text;
    Pipe pipe;
    std::vector<Node> list, else_list;
    size_t pos = 0;
};

// "1:8" for an offset of `source`.
std::string line_col(const std::string& source, size_t pos);

// The functions a command may call: Go's and docker's.
using Function = std::function<Result<nlohmann::json>(const std::vector<nlohmann::json>& args)>;
const Function* find_function(const std::string& name);

// Go's truth: false, 0, "", null and empty lists and maps are false.
bool truth(const nlohmann::json& v);

}  // namespace ctr::cli::gotmpl
