#include <ctr/pluginhost/manifest.hpp>

#include <cstdlib>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <regex>
#include <sstream>

namespace ctr::pluginhost {

namespace {

const char* const kKeys[] = {"name", "kind", "abi", "library", "version", "description", "isolation", "default", "holds_containers", "call_timeout_ms", "settings", "commands"};
const char* const kCommandKeys[] = {"name", "program", "summary", "start_args", "start_when"};

std::string where(const std::filesystem::path& file, const toml::source_region& src) {
    return file.string() + ":" + std::to_string(src.begin.line) + ":" + std::to_string(src.begin.column);
}

Error bad(const std::filesystem::path& file, const toml::node& node, const std::string& what) {
    return make_error(CTR_E_INVALID_ARGUMENT, where(file, node.source()) + ": " + what);
}

}  // namespace

// TOML -> JSON for the [settings] table. Dates and times become strings.
nlohmann::json toml_to_json(const toml::node& node) {
    if (auto t = node.as_table()) {
        nlohmann::json j = nlohmann::json::object();
        for (const auto& [k, v] : *t) j[std::string(k.str())] = toml_to_json(v);
        return j;
    }
    if (auto a = node.as_array()) {
        nlohmann::json j = nlohmann::json::array();
        for (const auto& v : *a) j.push_back(toml_to_json(v));
        return j;
    }
    if (auto v = node.as_string()) return v->get();
    if (auto v = node.as_integer()) return v->get();
    if (auto v = node.as_floating_point()) return v->get();
    if (auto v = node.as_boolean()) return v->get();
    std::ostringstream os;  // dates and times: their TOML text
    if (auto v = node.as_date()) os << v->get();
    else if (auto t = node.as_time()) os << t->get();
    else if (auto dt = node.as_date_time()) os << dt->get();
    return os.str();
}

namespace {

Result<std::string> string_key(const std::filesystem::path& file, const toml::table& t, const char* key,
                               bool required) {
    const toml::node* n = t.get(key);
    if (!n) {
        if (!required) return std::string();
        return make_error(CTR_E_INVALID_ARGUMENT, file.string() + ": missing key \"" + key + "\"");
    }
    if (!n->is_string()) return bad(file, *n, std::string("key \"") + key + "\" must be a string");
    return n->as_string()->get();
}

}  // namespace

const char* kind_name(int32_t kind) {
    switch (kind) {
    case CTR_KIND_RUNTIME: return "runtime";
    case CTR_KIND_NETWORK: return "network";
    case CTR_KIND_IMAGE: return "image";
    default: return "unknown";
    }
}

std::optional<ctr_kind> parse_kind(const std::string& s) {
    if (s == "runtime") return CTR_KIND_RUNTIME;
    if (s == "network") return CTR_KIND_NETWORK;
    if (s == "image") return CTR_KIND_IMAGE;
    return std::nullopt;
}

bool valid_plugin_name(const std::string& name) {
    static const std::regex re("[a-z0-9][a-z0-9._-]{0,62}");
    return std::regex_match(name, re) && name.find("..") == std::string::npos;
}

namespace {

Result<std::vector<std::string>> strings_key(const std::filesystem::path& file, const toml::table& t, const char* key) {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    if (!n->is_array()) return bad(file, *n, std::string("key \"") + key + "\" must be an array of strings");
    for (const auto& item : *n->as_array()) {
        if (!item.is_string()) return bad(file, item, std::string("key \"") + key + "\" must be an array of strings");
        out.push_back(item.as_string()->get());
    }
    return out;
}

Result<PluginCommand> parse_command(const std::filesystem::path& file, const std::filesystem::path& dir, const toml::node& node) {
    const toml::table* t = node.as_table();
    if (!t) return bad(file, node, "each of \"commands\" must be a table");
    for (const auto& [key, value] : *t) {
        bool known = false;
        for (const char* k : kCommandKeys) known = known || key.str() == k;
        if (!known) return bad(file, value, "unknown key \"commands." + std::string(key.str()) + "\"");
    }
    PluginCommand c;
    c.name = CTR_TRY(string_key(file, *t, "name", true));
    if (!valid_plugin_name(c.name)) return bad(file, node, "invalid command name \"" + c.name + "\"");
    std::string program = CTR_TRY(string_key(file, *t, "program", true));
    if (program.empty() || program.find('/') != std::string::npos)
        return bad(file, node, "key \"commands.program\" must be a file name beside the manifest, not \"" + program + "\"");
    c.program = dir / program;
    c.summary = CTR_TRY(string_key(file, *t, "summary", false));
    c.start_args = CTR_TRY(strings_key(file, *t, "start_args"));
    c.start_when = CTR_TRY(string_key(file, *t, "start_when", false));
    return c;
}

Result<std::vector<PluginCommand>> parse_commands(const std::filesystem::path& file, const std::filesystem::path& dir,
                                                  const toml::table& table) {
    std::vector<PluginCommand> out;
    const toml::node* n = table.get("commands");
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) return bad(file, *n, "key \"commands\" must be an array of tables ([[commands]])");
    for (const auto& item : *a) out.push_back(CTR_TRY(parse_command(file, dir, item)));
    return out;
}

}  // namespace

Result<Manifest> parse_manifest(const std::filesystem::path& file) {
    toml::table table;
    try {  // toml++ reports syntax errors by exception; this adapter turns them into values
        table = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
        if (e.source().begin.line == 0)
            return make_error(CTR_E_INVALID_ARGUMENT, file.string() + ": " + std::string(e.description()));
        return make_error(CTR_E_INVALID_ARGUMENT, where(file, e.source()) + ": " + std::string(e.description()));
    }

    for (const auto& [key, node] : table) {
        bool known = false;
        for (const char* k : kKeys) known = known || key.str() == k;
        if (!known) return bad(file, node, "unknown key \"" + std::string(key.str()) + "\"");
    }

    Manifest m;
    m.file = std::filesystem::absolute(file).lexically_normal();
    m.name = CTR_TRY(string_key(file, table, "name", true));
    if (!valid_plugin_name(m.name))
        return bad(file, *table.get("name"), "invalid plugin name \"" + m.name + "\" (want [a-z0-9][a-z0-9._-]*)");

    std::string kind = CTR_TRY(string_key(file, table, "kind", true));
    auto k = parse_kind(kind);
    if (!k) return bad(file, *table.get("kind"), "key \"kind\" must be runtime, network or image, not \"" + kind + "\"");
    m.kind = *k;

    std::string abi = CTR_TRY(string_key(file, table, "abi", true));
    static const std::regex abi_re("([0-9]{1,4})\\.([0-9]{1,4})");
    std::smatch match;
    if (!std::regex_match(abi, match, abi_re))
        return bad(file, *table.get("abi"), "key \"abi\" must look like \"1.0\", not \"" + abi + "\"");
    m.abi_major = static_cast<uint32_t>(std::stoul(match[1]));
    m.abi_minor = static_cast<uint32_t>(std::stoul(match[2]));

    std::string lib = CTR_TRY(string_key(file, table, "library", true));
    if (lib.empty() || lib.find('/') != std::string::npos)
        return bad(file, *table.get("library"), "key \"library\" must be a file name beside the manifest, not \"" + lib + "\"");
    m.library = m.file.parent_path() / lib;

    m.version = CTR_TRY(string_key(file, table, "version", true));
    m.description = CTR_TRY(string_key(file, table, "description", false));
    m.isolation = CTR_TRY(string_key(file, table, "isolation", false));
    if (!m.isolation.empty() && m.isolation != "none" && m.isolation != "namespaces" && m.isolation != "vm")
        return bad(file, *table.get("isolation"), "key \"isolation\" must be none, namespaces or vm, not \"" + m.isolation + "\"");
    if (const toml::node* d = table.get("default")) {
        if (!d->is_boolean()) return bad(file, *d, "key \"default\" must be true or false");
        m.is_default = d->as_boolean()->get();
    }
    if (const toml::node* h = table.get("holds_containers")) {
        if (!h->is_boolean()) return bad(file, *h, "key \"holds_containers\" must be true or false");
        m.holds_containers = h->as_boolean()->get();
    }
    if (const toml::node* t = table.get("call_timeout_ms")) {
        if (!t->is_integer() || t->as_integer()->get() < 1 || t->as_integer()->get() > 86400000)
            return bad(file, *t, "key \"call_timeout_ms\" must be a whole number of milliseconds, 1 to 86400000");
        m.call_timeout_ms = static_cast<int>(t->as_integer()->get());
    }
    m.commands = CTR_TRY(parse_commands(file, m.file.parent_path(), table));

    nlohmann::json settings = nlohmann::json::object();
    if (const toml::node* s = table.get("settings")) {
        if (!s->is_table()) return bad(file, *s, "key \"settings\" must be a table");
        settings = toml_to_json(*s);
    }
    // The operator's word wins, key by key (the system config's [plugins.NAME]).
    if (const char* env = std::getenv(kSettingsEnv)) {
        auto overrides = nlohmann::json::parse(env, nullptr, false);
        if (overrides.is_object() && overrides.contains(m.name) && overrides[m.name].is_object())
            for (const auto& [key, value] : overrides[m.name].items()) settings[key] = value;
    }
    m.settings_json = settings.dump();
    return m;
}

}  // namespace ctr::pluginhost
