// The executor of go_template.hpp: walks the tree over JSON data, with
// Go's scoping of $variables and its printing of values.
#include "cli/go_template_ast.hpp"

#include <charconv>
#include <set>
#include <cmath>

namespace ctr::cli::gotmpl {

using nlohmann::json;

bool truth(const json& v) {
    if (v.is_null()) return false;
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_number_float()) return v.get<double>() != 0.0;
    if (v.is_number()) return v.get<int64_t>() != 0;
    if (v.is_string()) return !v.get_ref<const std::string&>().empty();
    return !v.empty();
}

namespace {

std::string float_text(double d) {
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e21) return std::to_string(static_cast<long long>(d));
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, r.ptr);
}

std::string print_inner(const json& v) {
    if (v.is_null()) return "<nil>";
    return print_value(v);
}

}  // namespace

std::string print_value(const json& v) {
    if (v.is_null()) return "<no value>";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_float()) return float_text(v.get<double>());
    if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
    if (v.is_number()) return std::to_string(v.get<int64_t>());
    std::string out = v.is_array() ? "[" : "map[";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ' ';
        first = false;
        if (v.is_object()) out += it.key() + ":";
        out += print_inner(*it);
    }
    return out + "]";
}

namespace {

enum class Flow { Normal, Break, Continue };

class Exec {
public:
    Exec(const std::string& src, const json& root, const Methods& methods) : src_(src), root_(root), methods_(methods) {
        vars_.emplace_back("$", root);
    }

    Result<Flow> walk(const std::vector<Node>& list, const json& dot) {
        for (const auto& n : list) {
            Flow f = CTR_TRY(node(n, dot));
            if (f != Flow::Normal) return f;
        }
        return Flow::Normal;
    }

    std::string out;

private:
    Result<Flow> node(const Node& n, const json& dot) {
        switch (n.kind) {
        case Node::Text: out += n.text; return Flow::Normal;
        case Node::Break: return Flow::Break;
        case Node::Continue: return Flow::Continue;
        case Node::Action: {
            json v = CTR_TRY(pipe(n.pipe, dot));
            if (n.pipe.vars.empty()) out += v.is_null() && !nil_field_.empty() ? typed_nil(nil_field_) : print_value(v);
            return Flow::Normal;
        }
        case Node::If:
        case Node::With: {
            const size_t mark = vars_.size();
            json v = CTR_TRY(pipe(n.pipe, dot));
            Result<Flow> f = Flow::Normal;
            if (truth(v)) f = walk(n.list, n.kind == Node::With ? v : dot);
            else f = walk(n.else_list, dot);
            vars_.resize(mark);
            return f;
        }
        case Node::Range: return range(n, dot);
        }
        return Flow::Normal;
    }

    Result<Flow> range(const Node& n, const json& dot) {
        const size_t mark = vars_.size();
        Pipe head = n.pipe;
        auto vars = head.vars;
        head.vars.clear();
        json v = CTR_TRY(pipe(head, dot));
        if (!v.is_null() && !v.is_array() && !v.is_object() && !v.is_number_integer())
            return fail(n.pos, "range can't iterate over " + print_value(v));
        std::vector<std::pair<json, json>> items;
        if (v.is_array()) {
            for (size_t i = 0; i < v.size(); ++i) items.emplace_back(static_cast<int64_t>(i), v[i]);
        } else if (v.is_object()) {
            for (auto it = v.begin(); it != v.end(); ++it) items.emplace_back(it.key(), it.value());
        } else if (v.is_number_integer()) {
            for (int64_t i = 0; i < v.get<int64_t>(); ++i) items.emplace_back(i, i);
        }
        if (items.empty()) {
            auto f = walk(n.else_list, dot);
            vars_.resize(mark);
            return f;
        }
        for (const auto& [key, elem] : items) {
            vars_.resize(mark);
            if (vars.size() == 1) vars_.emplace_back(vars[0], elem);
            if (vars.size() == 2) {
                vars_.emplace_back(vars[0], key);
                vars_.emplace_back(vars[1], elem);
            }
            Flow f = CTR_TRY(walk(n.list, elem));
            if (f == Flow::Break) break;
        }
        vars_.resize(mark);
        return Flow::Normal;
    }

    Result<json> pipe(const Pipe& p, const json& dot) {
        json v;
        bool have = false;
        for (const auto& c : p.cmds) {
            v = CTR_TRY(command(c, dot, have ? &v : nullptr));
            have = true;
        }
        for (const auto& name : p.vars) {
            if (!p.assign) {
                vars_.emplace_back(name, v);
                continue;
            }
            auto* slot = var(name);
            if (!slot) return fail(p.pos, "undefined variable: " + name);
            *slot = v;
        }
        return v;
    }

    Result<json> command(const Command& c, const json& dot, const json* piped) {
        nil_field_.clear();  // only the last command's field can say
        const Arg& head = c.args.front();
        if (head.kind == Arg::Func) {
            std::vector<json> args;
            for (size_t i = 1; i < c.args.size(); ++i) args.push_back(CTR_TRY(arg(c.args[i], dot)));
            if (piped) args.push_back(*piped);
            auto r = (*find_function(head.name))(args);
            if (!r) return fail(head.pos, "error calling " + head.name + ": " + r.error().message);
            return *r;
        }
        // `.Label "key"`: a method of the data, given arguments.
        if ((c.args.size() > 1 || piped) && head.kind == Arg::Field && head.chain.size() == 1 && methods_.count(head.chain[0])) {
            std::vector<json> args;
            for (size_t i = 1; i < c.args.size(); ++i) args.push_back(CTR_TRY(arg(c.args[i], dot)));
            if (piped) args.push_back(*piped);
            auto r = methods_.at(head.chain[0])(args);
            if (!r) return fail(head.pos, "error calling " + head.chain[0] + ": " + r.error().message);
            return *r;
        }
        if (c.args.size() > 1 || piped) return fail(head.pos, "can't give argument to non-function " + head.text);
        return arg(head, dot);
    }

    Result<json> arg(const Arg& a, const json& dot) {
        switch (a.kind) {
        case Arg::Dot: return dot;
        case Arg::Literal: return a.literal;
        case Arg::Func: {
            auto r = (*find_function(a.name))({});
            if (!r) return fail(a.pos, "error calling " + a.name + ": " + r.error().message);
            return *r;
        }
        case Arg::Var: {
            auto* v = var(a.name);
            if (!v) return fail(a.pos, "undefined variable: " + a.name);
            return fields(*v, a, &*v == &vars_.front().second);
        }
        case Arg::Sub: return fields(CTR_TRY(pipe(*a.sub, dot)), a, false);
        case Arg::Field: return fields(dot, a, &dot == &root_);
        }
        return json();
    }

    // Follows a.chain from `v`. A name missing from the data itself (or an
    // object whose keys are all capitalised, as Docker's structs) is an
    // error; from a map, it is null ("<no value>").
    Result<json> fields(const json& v, const Arg& a, bool is_root) {
        const json* cur = &v;
        bool root = is_root;
        for (const auto& name : a.chain) {
            if (cur->is_null()) return json();
            if (!cur->is_object()) return fail(a.pos, "can't evaluate field " + name + " in " + kind_of(*cur));
            auto it = cur->find(name);
            if (it == cur->end()) {
                if (methods_.count(name) && root) return fail(a.pos, name + " needs an argument");
                if (root || struct_like(*cur)) return fail(a.pos, "can't evaluate field " + name);
                return json();
            }
            // A null field of a struct is Go's nil of the field's type;
            // a null under a map's key is a missing value.
            if (it->is_null() && &name == &a.chain.back() && (root || struct_like(*cur))) nil_field_ = name;
            cur = &*it;
            root = false;
        }
        return *cur;
    }

    // How Go prints a nil field of docker's structs, by the field's name:
    // a map "map[]", a pointer "<nil>", a slice (the rest) "[]".
    static std::string typed_nil(const std::string& field) {
        static const std::set<std::string> maps = {"Labels", "Options", "ExposedPorts", "Volumes", "Annotations", "Networks",
                                                   "Ports", "Sysctls", "DriverOpts", "Attributes", "Tmpfs", "StorageOpt",
                                                   "Status", "Containers", "Data"};
        static const std::set<std::string> pointers = {"Health", "State", "Config", "HostConfig", "NetworkSettings", "GraphDriver",
                                                       "RootFS", "Metadata", "UsageData", "Healthcheck", "Descriptor", "IPAM",
                                                       "ContainerConfig", "LogConfig", "RestartPolicy"};
        if (maps.count(field)) return "map[]";
        if (pointers.count(field)) return "<nil>";
        return "[]";
    }

    static bool struct_like(const json& o) {
        if (o.empty()) return false;
        for (auto it = o.begin(); it != o.end(); ++it)
            if (it.key().empty() || !std::isupper(static_cast<unsigned char>(it.key()[0]))) return false;
        return true;
    }

    static std::string kind_of(const json& v) {
        if (v.is_string()) return "string";
        if (v.is_array()) return "list";
        if (v.is_boolean()) return "bool";
        return "number";
    }

    json* var(const std::string& name) {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
            if (it->first == name) return &it->second;
        return nullptr;
    }

    Error fail(size_t pos, const std::string& what) const {
        return make_error(CTR_E_INVALID_ARGUMENT, "template: " + line_col(src_, pos) + ": " + what);
    }

    const std::string& src_;
    const json& root_;
    const Methods& methods_;
    std::vector<std::pair<std::string, json>> vars_;
    std::string nil_field_;  // the last command gave a struct's null field of this name
};

}  // namespace

Result<std::string> Template::execute(const json& dot, const Methods& methods) const {
    Exec e(*source_, dot, methods);
    CTR_TRY(e.walk(*root_, dot));
    return std::move(e.out);
}

}  // namespace ctr::cli::gotmpl
