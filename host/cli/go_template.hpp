// Go's text/template over JSON values: what `docker ps --format` and
// `docker inspect -f` take, so that scripts written for docker work here.
//
// Supported: text and {{actions}} with {{- -}} trimming and comments;
// pipelines with |, parentheses and $variables (:= and =); .Field chains;
// if/else if/else, range (with $i, $v := and else), with, break, continue;
// the functions of Go (and, or, not, eq, ne, lt, le, gt, ge, len, index,
// slice, print, printf, println) and docker's (json, join, split, title,
// lower, upper, pad, truncate). Not supported: define, template, block.
#pragma once

#include <ctr/sdk/result.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ctr::cli::gotmpl {

struct Node;

// A method of the data, as docker's `{{.Label "com.example.key"}}`: called
// when a field of that name is given arguments.
using Method = std::function<Result<nlohmann::json>(const std::vector<nlohmann::json>& args)>;
using Methods = std::map<std::string, Method>;

class Template {
public:
    // A syntax error reads "template: 1:8: ..." (line:column of the action).
    static Result<Template> parse(std::string_view text);
    // Runs the template with `dot` as the data. A field missing from the
    // data itself is an error naming the field; one missing from a map
    // within it (.Config.Labels.x) prints "<no value>", as Go does.
    Result<std::string> execute(const nlohmann::json& dot, const Methods& methods = {}) const;

private:
    std::shared_ptr<const std::vector<Node>> root_;
    std::shared_ptr<const std::string> source_;
};

// A value as Go's %v prints it: strings bare, [a b] for lists, map[k:v]
// for objects, <no value> for null.
std::string print_value(const nlohmann::json& v);

// Docker's reading of a --format before parsing: "\t" and "\n" as typed
// (two characters each) become a tab and a newline.
std::string unescape_format(std::string_view format);

}  // namespace ctr::cli::gotmpl
