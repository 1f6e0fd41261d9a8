#include "compose/project.hpp"

#include <ctr/base/units.hpp>
#include "compose/dotenv.hpp"
#include <ctr/sys/files.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

namespace ctr::compose {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Where each value came from: json pointer -> "file:line".
using Origins = std::map<std::string, std::string>;

Error at(const std::string& where, const std::string& message) {
    return make_error(CTR_E_INVALID_ARGUMENT, (where.empty() ? "" : where + ": ") + message);
}

std::string dotted(const std::string& pointer) {
    std::string out = pointer.substr(1);
    std::replace(out.begin(), out.end(), '/', '.');
    return out;
}

// The origin of a pointer, or of its nearest parent that has one.
std::string origin_of(const Origins& o, std::string pointer) {
    for (;;) {
        auto it = o.find(pointer);
        if (it != o.end()) return it->second;
        auto slash = pointer.rfind('/');
        if (slash == std::string::npos || pointer.empty()) return "";
        pointer.resize(slash);
    }
}

json scalar_of(const std::string& text, bool quoted) {
    if (quoted) return text;
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    static const std::regex integer("[-+]?[0-9]+"), real("[-+]?([0-9]+\\.[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");
    try {
        if (std::regex_match(text, integer) && text.size() < 18) return std::stoll(text);
        if (std::regex_match(text, real)) return std::stod(text);
    } catch (...) {
    }
    return text;
}

Result<json> to_json(const YAML::Node& n, const std::string& pointer, const std::string& file, Origins& origins, const Lookup& env) {
    std::string where = file + ":" + std::to_string(n.Mark().line + 1);
    origins[pointer] = where;
    switch (n.Type()) {
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined: return json(nullptr);
        case YAML::NodeType::Scalar: {
            auto value = interpolate(n.Scalar(), env);
            if (!value) return at(where, (pointer.empty() ? "" : dotted(pointer) + ": ") + value.error().message);
            return scalar_of(*value, n.Tag() == "!");
        }
        case YAML::NodeType::Sequence: {
            json arr = json::array();
            size_t i = 0;
            for (const auto& item : n) arr.push_back(CTR_TRY(to_json(item, pointer + "/" + std::to_string(i++), file, origins, env)));
            return arr;
        }
        case YAML::NodeType::Map: {
            json obj = json::object();
            for (const auto& kv : n) {
                if (!kv.first.IsScalar()) return at(where, "keys must be plain strings");
                std::string key = kv.first.Scalar();
                if (obj.contains(key)) return at(file + ":" + std::to_string(kv.first.Mark().line + 1), "duplicate key \"" + key + "\"");
                // "<<" merge keys of YAML anchors: the referenced map's keys come in unless set here.
                obj[key] = CTR_TRY(to_json(kv.second, pointer + "/" + key, file, origins, env));
            }
            if (obj.contains("<<")) {
                json base = obj["<<"];
                obj.erase("<<");
                std::vector<json> bases = base.is_array() ? std::vector<json>(base.begin(), base.end()) : std::vector<json>{base};
                for (const auto& b : bases)
                    if (b.is_object())
                        for (const auto& [k, v] : b.items())
                            if (!obj.contains(k)) obj[k] = v;
            }
            return obj;
        }
    }
    return json(nullptr);
}

// ---- the keys we know -----------------------------------------------------

enum class Support { yes, warn, no };

struct KeySet {
    std::map<std::string, Support> keys;
    const char* why_not = "not supported";
};

const std::map<std::string, Support>& service_keys() {
    static const std::map<std::string, Support> k = {
        {"image", Support::yes}, {"command", Support::yes}, {"entrypoint", Support::yes}, {"environment", Support::yes},
        {"env_file", Support::yes}, {"ports", Support::yes}, {"volumes", Support::yes}, {"networks", Support::yes},
        {"network_mode", Support::yes}, {"depends_on", Support::yes}, {"healthcheck", Support::yes}, {"restart", Support::yes},
        {"working_dir", Support::yes}, {"user", Support::yes}, {"hostname", Support::yes}, {"labels", Support::yes},
        {"deploy", Support::yes}, {"tmpfs", Support::yes}, {"init", Support::yes}, {"stop_signal", Support::yes},
        {"stop_grace_period", Support::yes}, {"x-container-runtime", Support::yes}, {"container_name", Support::yes},
        {"tty", Support::yes}, {"stdin_open", Support::yes}, {"cap_add", Support::yes}, {"cap_drop", Support::yes},
        {"read_only", Support::yes}, {"dns", Support::yes}, {"dns_search", Support::yes}, {"extra_hosts", Support::yes},
        {"platform", Support::yes}, {"expose", Support::yes}, {"mem_limit", Support::yes}, {"cpus", Support::yes},
        {"pids_limit", Support::yes}, {"shm_size", Support::yes}, {"ulimits", Support::yes},
        // Read, not acted on: they tune, they do not change what runs.
        {"logging", Support::warn}, {"cpu_shares", Support::warn}, {"cpu_quota", Support::warn}, {"cpu_period", Support::warn},
        {"mem_reservation", Support::warn}, {"mem_swappiness", Support::warn}, {"memswap_limit", Support::warn},
        {"oom_score_adj", Support::warn}, {"pull_policy", Support::warn}, {"links", Support::warn}, {"domainname", Support::warn},
        {"stop_grace", Support::no}, {"build", Support::no}, {"secrets", Support::no}, {"configs", Support::no},
        {"profiles", Support::no}, {"extends", Support::no}, {"volumes_from", Support::no}, {"external_links", Support::no},
        {"privileged", Support::no}, {"devices", Support::no}, {"security_opt", Support::no}, {"ipc", Support::no},
        {"pid", Support::no}, {"userns_mode", Support::no}, {"cgroup_parent", Support::no}, {"group_add", Support::no},
        {"sysctls", Support::no}, {"scale", Support::no}, {"mac_address", Support::no}, {"develop", Support::no}};
    return k;
}

Status check_keys(const json& obj, const std::string& pointer, const std::map<std::string, Support>& known, const Origins& o,
                  std::vector<std::string>& warnings, const std::string& hint = "") {
    if (!obj.is_object()) return at(origin_of(o, pointer), dotted(pointer) + ": must be a mapping");
    for (const auto& [k, v] : obj.items()) {
        if (k.rfind("x-", 0) == 0 && !known.count(k)) continue;  // extensions are the user's own
        std::string p = pointer + "/" + k;
        auto it = known.find(k);
        if (it == known.end()) return at(origin_of(o, p), dotted(p) + ": unknown key" + hint);
        if (it->second == Support::no) return at(origin_of(o, p), dotted(p) + ": not supported" + hint);
        if (it->second == Support::warn) warnings.push_back(origin_of(o, p) + ": " + dotted(p) + ": ignored (it only tunes behaviour)");
    }
    return ok();
}

// Each file on its own: the keys at every level we read.
Status check_file(const json& doc, const Origins& o, std::vector<std::string>& warnings) {
    static const std::map<std::string, Support> top = {{"version", Support::warn}, {"name", Support::yes}, {"services", Support::yes},
                                                       {"networks", Support::yes}, {"volumes", Support::yes}, {"secrets", Support::no},
                                                       {"configs", Support::no}, {"include", Support::no}};
    if (!doc.is_object()) return at(origin_of(o, ""), "a compose file must be a mapping");
    CTR_TRY_STATUS(check_keys(doc, "", top, o, warnings));
    auto services = doc.value("services", json::object());
    if (services.is_null()) services = json::object();
    if (!services.is_object()) return at(origin_of(o, "/services"), "services: must be a mapping");
    for (const auto& [name, svc] : services.items()) {
        std::string p = "/services/" + name;
        if (svc.is_null()) continue;
        CTR_TRY_STATUS(check_keys(svc, p, service_keys(), o, warnings));
        if (svc.contains("healthcheck") && svc["healthcheck"].is_object())
            CTR_TRY_STATUS(check_keys(svc["healthcheck"], p + "/healthcheck",
                                      {{"test", Support::yes}, {"interval", Support::yes}, {"timeout", Support::yes},
                                       {"retries", Support::yes}, {"start_period", Support::yes}, {"disable", Support::yes},
                                       {"start_interval", Support::warn}},
                                      o, warnings));
        if (svc.contains("deploy") && svc["deploy"].is_object()) {
            const json& d = svc["deploy"];
            CTR_TRY_STATUS(check_keys(d, p + "/deploy",
                                      {{"resources", Support::yes}, {"replicas", Support::yes}, {"restart_policy", Support::warn},
                                       {"labels", Support::warn}, {"mode", Support::warn}, {"placement", Support::warn},
                                       {"update_config", Support::warn}, {"rollback_config", Support::warn},
                                       {"endpoint_mode", Support::warn}},
                                      o, warnings));
            if (d.contains("resources") && d["resources"].is_object()) {
                CTR_TRY_STATUS(check_keys(d["resources"], p + "/deploy/resources", {{"limits", Support::yes}, {"reservations", Support::warn}},
                                          o, warnings));
                if (d["resources"].contains("limits") && d["resources"]["limits"].is_object())
                    CTR_TRY_STATUS(check_keys(d["resources"]["limits"], p + "/deploy/resources/limits",
                                              {{"cpus", Support::yes}, {"memory", Support::yes}, {"pids", Support::yes}}, o, warnings));
            }
        }
        if (svc.contains("depends_on") && svc["depends_on"].is_object())
            for (const auto& [dep, spec] : svc["depends_on"].items())
                if (spec.is_object())
                    CTR_TRY_STATUS(check_keys(spec, p + "/depends_on/" + dep,
                                              {{"condition", Support::yes}, {"required", Support::yes}, {"restart", Support::warn}}, o,
                                              warnings));
        if (svc.contains("networks") && svc["networks"].is_object())
            for (const auto& [net, spec] : svc["networks"].items())
                if (spec.is_object())
                    CTR_TRY_STATUS(check_keys(spec, p + "/networks/" + net,
                                              {{"aliases", Support::yes}, {"ipv4_address", Support::no}, {"ipv6_address", Support::no},
                                               {"priority", Support::warn}, {"link_local_ips", Support::no}},
                                              o, warnings));
        for (const char* list : {"ports", "volumes"})
            if (svc.contains(list) && svc[list].is_array())
                for (size_t i = 0; i < svc[list].size(); ++i)
                    if (svc[list][i].is_object()) {
                        std::map<std::string, Support> keys =
                            std::string(list) == "ports"
                                ? std::map<std::string, Support>{{"target", Support::yes}, {"published", Support::yes},
                                                                 {"host_ip", Support::yes}, {"protocol", Support::yes},
                                                                 {"mode", Support::warn}, {"name", Support::warn},
                                                                 {"app_protocol", Support::warn}}
                                : std::map<std::string, Support>{{"type", Support::yes}, {"source", Support::yes},
                                                                 {"target", Support::yes}, {"read_only", Support::yes},
                                                                 {"volume", Support::warn}, {"bind", Support::warn},
                                                                 {"tmpfs", Support::yes}, {"consistency", Support::warn}};
                        CTR_TRY_STATUS(check_keys(svc[list][i], p + "/" + list + "/" + std::to_string(i), keys, o, warnings));
                    }
    }
    for (const char* kind : {"networks", "volumes"}) {
        if (!doc.contains(kind) || doc[kind].is_null()) continue;
        if (!doc[kind].is_object()) return at(origin_of(o, std::string("/") + kind), std::string(kind) + ": must be a mapping");
        for (const auto& [name, spec] : doc[kind].items()) {
            if (spec.is_null()) continue;
            std::map<std::string, Support> keys =
                std::string(kind) == "networks"
                    ? std::map<std::string, Support>{{"external", Support::yes}, {"name", Support::yes}, {"driver", Support::yes},
                                                     {"internal", Support::yes}, {"labels", Support::yes}, {"ipam", Support::yes},
                                                     {"driver_opts", Support::warn}, {"attachable", Support::warn},
                                                     {"enable_ipv6", Support::no}}
                    : std::map<std::string, Support>{{"external", Support::yes}, {"name", Support::yes}, {"driver", Support::yes},
                                                     {"labels", Support::yes}, {"driver_opts", Support::no}};
            CTR_TRY_STATUS(check_keys(spec, std::string("/") + kind + "/" + name, keys, o, warnings));
        }
    }
    return ok();
}

// ---- merging ----------------------------------------------------------------

// environment and labels may be lists ("K=V") or mappings; as mappings they
// merge key by key across files. A bare "K" stays null (the caller's value).
void lists_to_maps(json& doc) {
    if (!doc.contains("services") || !doc["services"].is_object()) return;
    for (auto& [name, svc] : doc["services"].items()) {
        if (!svc.is_object()) continue;
        for (const char* key : {"environment", "labels"}) {
            if (!svc.contains(key) || !svc[key].is_array()) continue;
            json m = json::object();
            bool all_strings = true;
            for (const auto& item : svc[key]) {
                if (!item.is_string()) {
                    all_strings = false;
                    break;
                }
                std::string s = item;
                auto eq = s.find('=');
                if (eq == 0 || s.empty()) {
                    all_strings = false;  // left for map_of to report, with its line
                    break;
                }
                if (eq == std::string::npos) m[s] = nullptr;
                else m[s.substr(0, eq)] = s.substr(eq + 1);
            }
            if (all_strings) svc[key] = m;
        }
    }
}

// Lists that later files add to (ports by their text, volumes by target);
// every other list is replaced, every mapping merged key by key.
void merge_into(json& base, const json& over, const std::string& key = "") {
    if (base.is_object() && over.is_object()) {
        for (const auto& [k, v] : over.items()) {
            if (base.contains(k)) merge_into(base[k], v, k);
            else base[k] = v;
        }
        return;
    }
    if (base.is_array() && over.is_array() && (key == "ports" || key == "volumes" || key == "tmpfs" || key == "env_file")) {
        for (const auto& item : over) {
            auto same = [&](const json& x) {
                if (key != "volumes") return x == item;
                auto target = [](const json& v) -> std::string {
                    if (v.is_object()) return v.value("target", "");
                    std::string s = v.is_string() ? v.get<std::string>() : "";
                    auto a = s.find(':');
                    if (a == std::string::npos) return s;
                    auto b = s.find(':', a + 1);
                    return s.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
                };
                return target(x) == target(item);
            };
            auto it = std::find_if(base.begin(), base.end(), same);
            if (it != base.end()) *it = item;
            else base.push_back(item);
        }
        return;
    }
    base = over;
}

// ---- normalizing ------------------------------------------------------------

struct Ctx {
    const Origins& origins;
    fs::path dir;
    const Lookup& env;
    std::vector<std::string>& warnings;
    Error err(const std::string& pointer, const std::string& message) const {
        return at(origin_of(origins, pointer), dotted(pointer) + ": " + message);
    }
};

std::string text_of(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
    if (v.is_number_float()) {
        std::string s = std::to_string(v.get<double>());
        while (s.size() > 1 && s.back() == '0') s.pop_back();
        if (!s.empty() && s.back() == '.') s.pop_back();
        return s;
    }
    return v.is_null() ? "" : v.dump();
}

// A command as Compose splits a string: words, quotes, backslashes (no shell).
Result<std::vector<std::string>> split_words(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    bool in_word = false;
    char quote = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (quote) {
            if (c == quote) quote = 0;
            else if (c == '\\' && quote == '"' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) cur += s[++i];
            else cur += c;
        } else if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == '\\' && i + 1 < s.size()) {
            cur += s[++i];
            in_word = true;
        } else if (std::isspace(static_cast<unsigned char>(c))) {
            if (in_word) out.push_back(cur);
            cur.clear();
            in_word = false;
        } else {
            cur += c;
            in_word = true;
        }
    }
    if (quote) return make_error(CTR_E_INVALID_ARGUMENT, "unclosed quote in \"" + s + "\"");
    if (in_word) out.push_back(cur);
    return out;
}

Result<json> argv_of(const json& v, const std::string& p, const Ctx& c) {
    if (v.is_null()) return json(nullptr);
    if (v.is_string()) {
        auto words = split_words(v.get<std::string>());
        if (!words) return c.err(p, words.error().message);
        return json(*words);
    }
    if (v.is_array()) {
        json out = json::array();
        for (const auto& x : v) {
            if (x.is_object() || x.is_array() || x.is_null()) return c.err(p, "must be a string or a list of strings");
            out.push_back(text_of(x));
        }
        return out;
    }
    return c.err(p, "must be a string or a list of strings");
}

Result<std::vector<std::string>> strings_of(const json& v, const std::string& p, const Ctx& c) {
    std::vector<std::string> out;
    if (v.is_null()) return out;
    if (v.is_string() || v.is_number()) return std::vector<std::string>{text_of(v)};
    if (!v.is_array()) return c.err(p, "must be a string or a list");
    for (const auto& x : v) {
        if (x.is_object() || x.is_array() || x.is_null()) return c.err(p, "must be a list of strings");
        out.push_back(text_of(x));
    }
    return out;
}

// environment, labels, extra_hosts: a list of "K=V" (or "K:V" for hosts) or a mapping.
Result<json> map_of(const json& v, const std::string& p, const Ctx& c, char sep, bool from_env) {
    json out = json::object();
    if (v.is_null()) return out;
    if (v.is_object()) {
        for (const auto& [k, x] : v.items()) {
            if (x.is_null() && from_env) {
                if (auto e = c.env(k)) out[k] = *e;  // KEY with no value: the caller's, when set
            } else {
                if (x.is_object() || x.is_array()) return c.err(p + "/" + k, "must be a string");
                out[k] = text_of(x);
            }
        }
        return out;
    }
    if (!v.is_array()) return c.err(p, "must be a list or a mapping");
    for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_string()) return c.err(p + "/" + std::to_string(i), "must be a string");
        std::string s = v[i];
        auto eq = s.find(sep);
        if (eq == 0) return c.err(p + "/" + std::to_string(i), "\"" + s + "\" has no name");
        if (eq == std::string::npos) {
            if (!from_env) return c.err(p + "/" + std::to_string(i), std::string("\"") + s + "\" is not NAME" + sep + "VALUE");
            if (auto e = c.env(s)) out[s] = *e;
            continue;
        }
        out[s.substr(0, eq)] = s.substr(eq + 1);
    }
    return out;
}

Result<bool> bool_of(const json& v, const std::string& p, const Ctx& c) {
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_string()) {
        std::string s = v;
        if (s == "yes" || s == "true" || s == "on") return true;
        if (s == "no" || s == "false" || s == "off") return false;
    }
    return c.err(p, "must be true or false");
}

Result<double> seconds_of(const json& v, const std::string& p, const Ctx& c) {
    if (v.is_number()) return v.get<double>();
    if (!v.is_string()) return c.err(p, "must be a duration like 10s or 1m30s");
    auto d = parse_duration(v.get<std::string>(), dotted(p));
    if (!d) return at(origin_of(c.origins, p), d.error().message);
    return *d;
}

Result<double> number_of(const json& v, const std::string& p, const Ctx& c) {
    if (v.is_number()) return v.get<double>();
    if (v.is_string()) {
        try {
            size_t used = 0;
            double d = std::stod(v.get<std::string>(), &used);
            if (used == v.get<std::string>().size() && d >= 0) return d;
        } catch (...) {
        }
    }
    return c.err(p, "must be a number");
}

Result<int64_t> bytes_of(const json& v, const std::string& p, const Ctx& c) {
    if (v.is_number_integer()) return v.get<int64_t>();
    auto b = parse_size(text_of(v), dotted(p));
    if (!b) return at(origin_of(c.origins, p), b.error().message);
    return *b;
}

// "[host_ip:][published:]target[/proto]", or the long form, into our -p text.
Result<std::vector<std::string>> ports_of(const json& v, const std::string& p, const Ctx& c) {
    std::vector<std::string> out;
    if (v.is_null()) return out;
    if (!v.is_array()) return c.err(p, "must be a list");
    for (size_t i = 0; i < v.size(); ++i) {
        std::string pi = p + "/" + std::to_string(i);
        const json& x = v[i];
        if (x.is_object()) {
            if (!x.contains("target")) return c.err(pi, "target is required");
            std::string s = x.contains("host_ip") ? text_of(x["host_ip"]) + ":" : "";
            if (x.contains("published") && !x["published"].is_null()) s += text_of(x["published"]) + ":";
            else if (!s.empty()) s += ":";
            s += text_of(x["target"]);
            if (x.contains("protocol")) s += "/" + text_of(x["protocol"]);
            out.push_back(s);
        } else if (x.is_string() || x.is_number_integer()) {
            out.push_back(text_of(x));
        } else {
            return c.err(pi, "must be a string, a number or a mapping");
        }
    }
    return out;
}

bool is_path(const std::string& s) { return !s.empty() && (s[0] == '/' || s[0] == '.' || s[0] == '~'); }

Result<json> volumes_of(const json& v, const std::string& p, const Ctx& c, const json& declared) {
    json out = json::array();
    if (v.is_null()) return out;
    if (!v.is_array()) return c.err(p, "must be a list");
    for (size_t i = 0; i < v.size(); ++i) {
        std::string pi = p + "/" + std::to_string(i);
        json m = {{"read_only", false}};
        if (v[i].is_string()) {
            std::string s = v[i];
            std::vector<std::string> parts;
            size_t start = 0;
            for (size_t k = 0; k <= s.size(); ++k)
                if (k == s.size() || s[k] == ':') {
                    parts.push_back(s.substr(start, k - start));
                    start = k + 1;
                }
            if (parts.size() == 1) {
                m["type"] = "volume";
                m["source"] = "";
                m["target"] = parts[0];
            } else if (parts.size() <= 3) {
                m["type"] = is_path(parts[0]) ? "bind" : "volume";
                m["source"] = parts[0];
                m["target"] = parts[1];
                if (parts.size() == 3) {
                    for (const auto& opt : std::vector<std::string>{parts[2]}) {
                        if (opt == "ro") m["read_only"] = true;
                        else if (opt != "rw" && opt != "z" && opt != "Z") return c.err(pi, "unknown mode \"" + opt + "\" (want ro or rw)");
                    }
                }
            } else {
                return c.err(pi, "\"" + s + "\" is not [SOURCE:]TARGET[:ro]");
            }
        } else if (v[i].is_object()) {
            const json& x = v[i];
            std::string type = x.value("type", "volume");
            if (type != "volume" && type != "bind" && type != "tmpfs") return c.err(pi + "/type", "\"" + type + "\" is not supported (volume, bind or tmpfs)");
            m["type"] = type;
            m["source"] = x.contains("source") ? text_of(x["source"]) : "";
            if (!x.contains("target")) return c.err(pi, "target is required");
            m["target"] = text_of(x["target"]);
            if (x.contains("read_only")) m["read_only"] = CTR_TRY(bool_of(x["read_only"], pi + "/read_only", c));
            if (type == "tmpfs" && x.contains("tmpfs") && x["tmpfs"].is_object()) {
                if (x["tmpfs"].contains("size")) m["size"] = CTR_TRY(bytes_of(x["tmpfs"]["size"], pi + "/tmpfs/size", c));
                if (x["tmpfs"].contains("mode")) m["mode"] = text_of(x["tmpfs"]["mode"]);
            }
        } else {
            return c.err(pi, "must be a string or a mapping");
        }
        std::string target = m["target"];
        if (target.empty() || target[0] != '/') return c.err(pi, "target \"" + target + "\" must be an absolute path");
        std::string source = m["source"];
        if (m["type"] == "bind") {
            if (source.empty()) return c.err(pi, "a bind mount needs a source");
            if (source[0] == '~') {
                auto home = c.env("HOME");
                source = home.value_or("") + source.substr(1);
            }
            fs::path abs = fs::path(source).is_absolute() ? fs::path(source) : c.dir / source;
            m["source"] = abs.lexically_normal().string();
        } else if (m["type"] == "volume" && !source.empty() && !declared.contains(source)) {
            return c.err(pi, "volume \"" + source + "\" is not declared in the top-level volumes");
        }
        out.push_back(m);
    }
    return out;
}

Result<json> healthcheck_of(const json& v, const std::string& p, const Ctx& c) {
    if (v.is_null()) return json(nullptr);
    if (v.contains("disable") && CTR_TRY(bool_of(v["disable"], p + "/disable", c))) return json(nullptr);
    if (!v.contains("test")) return c.err(p, "test is required");
    json out;
    const json& t = v["test"];
    if (t.is_string()) out["test"] = json::array({"CMD-SHELL", t});
    else if (t.is_array() && !t.empty()) out["test"] = CTR_TRY(argv_of(t, p + "/test", c));
    else return c.err(p + "/test", "must be a string or a list");
    if (out["test"][0] == "NONE") return json(nullptr);
    if (out["test"][0] != "CMD" && out["test"][0] != "CMD-SHELL")
        return c.err(p + "/test", "a list must start with CMD, CMD-SHELL or NONE");
    for (const char* k : {"interval", "timeout", "start_period"})
        if (v.contains(k)) out[k] = CTR_TRY(seconds_of(v[k], p + "/" + k, c));
    if (v.contains("retries")) {
        if (!v["retries"].is_number_integer() || v["retries"].get<int64_t>() < 1) return c.err(p + "/retries", "must be a positive whole number");
        out["retries"] = v["retries"];
    }
    return out;
}

Result<json> service_of(const std::string& name, const json& s, const Ctx& c, const json& top) {
    const std::string p = "/services/" + name;
    json out = json::object();
    if (!s.contains("image") || !s["image"].is_string() || s["image"].get<std::string>().empty())
        return at(origin_of(c.origins, p), "service " + name + ": image is required (build is not supported: build the image, then name it)");
    out["image"] = s["image"];
    for (const char* k : {"container_name", "working_dir", "user", "hostname", "stop_signal", "platform"})
        if (s.contains(k) && !s[k].is_null()) out[k] = text_of(s[k]);
    if (s.contains("x-container-runtime")) out["runtime"] = text_of(s["x-container-runtime"]);
    if (s.contains("restart")) {
        std::string r = s["restart"].is_boolean() && !s["restart"].get<bool>() ? "no" : text_of(s["restart"]);
        static const std::regex re("no|always|unless-stopped|on-failure(:[0-9]+)?");
        if (!std::regex_match(r, re)) return c.err(p + "/restart", "\"" + r + "\": want no, always, on-failure[:N] or unless-stopped");
        out["restart"] = r;
    }
    if (s.contains("command")) out["command"] = CTR_TRY(argv_of(s["command"], p + "/command", c));
    if (s.contains("entrypoint")) out["entrypoint"] = CTR_TRY(argv_of(s["entrypoint"], p + "/entrypoint", c));

    // environment: env_file first (in order), then environment over it.
    json env = json::object();
    if (s.contains("env_file")) {
        for (const auto& f : CTR_TRY(strings_of(s["env_file"], p + "/env_file", c))) {
            fs::path file = fs::path(f).is_absolute() ? fs::path(f) : c.dir / f;
            auto text = sys::read_file(file);
            if (!text) return c.err(p + "/env_file", "cannot read \"" + file.string() + "\": " + text.error().message);
            auto vars = parse_dotenv(*text, file.string());
            if (!vars) return vars.error();
            for (const auto& [k, v] : *vars) env[k] = v;
        }
    }
    if (s.contains("environment")) {
        json given = CTR_TRY(map_of(s["environment"], p + "/environment", c, '=', true));
        for (const auto& [k, v] : given.items()) env[k] = v;
    }
    out["environment"] = env;
    out["labels"] = s.contains("labels") ? CTR_TRY(map_of(s["labels"], p + "/labels", c, '=', false)) : json::object();
    out["ports"] = s.contains("ports") ? json(CTR_TRY(ports_of(s["ports"], p + "/ports", c))) : json::array();
    out["volumes"] = s.contains("volumes") ? CTR_TRY(volumes_of(s["volumes"], p + "/volumes", c, top["volumes"])) : json::array();

    // networks: a list or a mapping; declared at the top level (but "default").
    if (s.contains("network_mode") && !s["network_mode"].is_null()) {
        std::string mode = text_of(s["network_mode"]);
        if (mode != "none" && mode != "host" && mode != "bridge")
            return c.err(p + "/network_mode", "\"" + mode + "\" is not supported (none, host or bridge)");
        if (s.contains("networks") && mode != "bridge") return c.err(p + "/network_mode", "cannot go with networks");
        if (mode != "bridge") out["network_mode"] = mode;
    }
    if (!out.contains("network_mode")) {
        json nets = json::object();
        if (s.contains("networks") && !s["networks"].is_null()) {
            const json& n = s["networks"];
            if (n.is_array()) {
                for (const auto& x : n) nets[text_of(x)] = {{"aliases", json::array()}};
            } else if (n.is_object()) {
                for (const auto& [k, v] : n.items()) {
                    json aliases = json::array();
                    if (v.is_object() && v.contains("aliases"))
                        aliases = CTR_TRY(strings_of(v["aliases"], p + "/networks/" + k + "/aliases", c));
                    nets[k] = {{"aliases", aliases}};
                }
            } else {
                return c.err(p + "/networks", "must be a list or a mapping");
            }
        } else {
            nets["default"] = {{"aliases", json::array()}};
        }
        for (const auto& [k, v] : nets.items())
            if (k != "default" && !top["networks"].contains(k))
                return c.err(p + "/networks", "network \"" + k + "\" is not declared in the top-level networks");
        out["networks"] = nets;
    }

    json deps = json::object();
    if (s.contains("depends_on") && !s["depends_on"].is_null()) {
        const json& d = s["depends_on"];
        if (d.is_array()) {
            for (const auto& x : d) deps[text_of(x)] = {{"condition", "service_started"}, {"required", true}};
        } else if (d.is_object()) {
            for (const auto& [k, v] : d.items()) {
                std::string cond = v.is_object() ? v.value("condition", "service_started") : "service_started";
                if (cond != "service_started" && cond != "service_healthy" && cond != "service_completed_successfully")
                    return c.err(p + "/depends_on/" + k + "/condition",
                                 "\"" + cond + "\": want service_started, service_healthy or service_completed_successfully");
                bool required = v.is_object() && v.contains("required") ? CTR_TRY(bool_of(v["required"], p + "/depends_on/" + k + "/required", c)) : true;
                deps[k] = {{"condition", cond}, {"required", required}};
            }
        } else {
            return c.err(p + "/depends_on", "must be a list or a mapping");
        }
    }
    out["depends_on"] = deps;
    if (s.contains("healthcheck")) {
        auto hc = CTR_TRY(healthcheck_of(s["healthcheck"], p + "/healthcheck", c));
        if (!hc.is_null()) out["healthcheck"] = hc;
    }

    // Limits: deploy.resources.limits, or the older cpus / mem_limit.
    if (s.contains("cpus")) out["cpus"] = CTR_TRY(number_of(s["cpus"], p + "/cpus", c));
    if (s.contains("mem_limit")) out["memory"] = CTR_TRY(bytes_of(s["mem_limit"], p + "/mem_limit", c));
    if (s.contains("pids_limit")) out["pids_limit"] = s["pids_limit"];
    if (s.contains("deploy") && s["deploy"].is_object()) {
        const json& d = s["deploy"];
        if (d.contains("replicas") && !(d["replicas"].is_number_integer() && d["replicas"].get<int64_t>() == 1))
            return c.err(p + "/deploy/replicas", "only 1 is supported");
        if (d.contains("resources") && d["resources"].is_object() && d["resources"].contains("limits")) {
            const json& l = d["resources"]["limits"];
            std::string lp = p + "/deploy/resources/limits";
            if (l.contains("cpus")) out["cpus"] = CTR_TRY(number_of(l["cpus"], lp + "/cpus", c));
            if (l.contains("memory")) out["memory"] = CTR_TRY(bytes_of(l["memory"], lp + "/memory", c));
            if (l.contains("pids")) out["pids_limit"] = l["pids"];
        }
    }
    if (s.contains("shm_size")) out["shm_size"] = CTR_TRY(bytes_of(s["shm_size"], p + "/shm_size", c));
    if (s.contains("tmpfs")) out["tmpfs"] = CTR_TRY(strings_of(s["tmpfs"], p + "/tmpfs", c));
    for (const char* k : {"init", "tty", "stdin_open", "read_only"})
        if (s.contains(k)) out[k] = CTR_TRY(bool_of(s[k], p + "/" + k, c));
    if (s.contains("stop_grace_period")) out["stop_grace_period"] = CTR_TRY(seconds_of(s["stop_grace_period"], p + "/stop_grace_period", c));
    for (const char* k : {"cap_add", "cap_drop", "dns", "dns_search"})
        if (s.contains(k)) out[k] = CTR_TRY(strings_of(s[k], p + "/" + k, c));
    if (s.contains("extra_hosts")) {
        json hosts = json::array();
        if (s["extra_hosts"].is_object()) {
            for (const auto& [h, ip] : s["extra_hosts"].items()) hosts.push_back(h + ":" + text_of(ip));
        } else {
            for (const auto& h : CTR_TRY(strings_of(s["extra_hosts"], p + "/extra_hosts", c))) {
                std::string x = h;
                auto eq = x.find('=');  // "host=ip" is Compose's newer spelling
                if (eq != std::string::npos) x[eq] = ':';
                hosts.push_back(x);
            }
        }
        out["extra_hosts"] = hosts;
    }
    if (s.contains("ulimits")) {
        if (!s["ulimits"].is_object()) return c.err(p + "/ulimits", "must be a mapping");
        json list = json::array();
        for (const auto& [k, v] : s["ulimits"].items()) {
            if (v.is_object()) list.push_back(k + "=" + text_of(v.value("soft", json(0))) + ":" + text_of(v.value("hard", json(0))));
            else list.push_back(k + "=" + text_of(v));
        }
        out["ulimits"] = list;
    }
    return out;
}

// depends_on names services of this file; no cycles.
Status check_graph(const json& services, const Origins& o) {
    for (const auto& [name, s] : services.items())
        for (const auto& [dep, spec] : s["depends_on"].items())
            if (!services.contains(dep) && spec.value("required", true))
                return at(origin_of(o, "/services/" + name + "/depends_on"),
                          "service " + name + ": depends_on names an unknown service \"" + dep + "\"");
    std::map<std::string, int> mark;  // 0 new, 1 on the path, 2 done
    std::vector<std::string> path;
    std::function<Status(const std::string&)> visit = [&](const std::string& n) -> Status {
        if (mark[n] == 2) return ok();
        if (mark[n] == 1) {
            std::string cycle;
            auto from = std::find(path.begin(), path.end(), n);
            for (auto it = from; it != path.end(); ++it) cycle += *it + " -> ";
            return at(origin_of(o, "/services/" + n + "/depends_on"), "dependency cycle: " + cycle + n);
        }
        mark[n] = 1;
        path.push_back(n);
        for (const auto& [dep, spec] : services[n]["depends_on"].items())
            if (services.contains(dep)) CTR_TRY_STATUS(visit(dep));
        path.pop_back();
        mark[n] = 2;
        return ok();
    };
    for (const auto& [name, s] : services.items()) CTR_TRY_STATUS(visit(name));
    return ok();
}

}  // namespace

std::string normalize_project_name(const std::string& name) {
    std::string out;
    for (char ch : name) {
        char c = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (std::isalnum(static_cast<unsigned char>(c)) || ((c == '_' || c == '-') && !out.empty())) out += c;
    }
    return out;
}

Result<Project> load(const LoadOptions& opt) {
    Project project;
    std::vector<fs::path> files;
    for (const auto& f : opt.files) files.push_back(fs::path(f).is_absolute() ? fs::path(f) : opt.working_dir / f);
    if (files.empty()) {
        for (const char* name : {"compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"}) {
            std::error_code ec;
            if (fs::exists(opt.working_dir / name, ec)) {
                files.push_back(opt.working_dir / name);
                break;
            }
        }
        if (files.empty())
            return make_error(CTR_E_NOT_FOUND, "no compose file in " + opt.working_dir.string() + " (compose.yaml, compose.yml or docker-compose.yml); name one with -f");
    }
    project.files = files;
    project.dir = files.front().parent_path();

    // Variables: the caller's environment first, then the .env files.
    std::map<std::string, std::string> dotenv;
    std::vector<fs::path> env_files;
    for (const auto& e : opt.env_files) env_files.push_back(fs::path(e).is_absolute() ? fs::path(e) : opt.working_dir / e);
    std::error_code ec;
    if (opt.env_files.empty() && fs::exists(project.dir / ".env", ec)) env_files.push_back(project.dir / ".env");
    for (const auto& f : env_files) {
        auto text = sys::read_file(f);
        if (!text) return make_error(CTR_E_NOT_FOUND, "--env-file: cannot read \"" + f.string() + "\": " + text.error().message);
        auto vars = CTR_TRY(parse_dotenv(*text, f.string()));
        for (const auto& [k, v] : vars) dotenv[k] = v;
    }
    Lookup env = [&](const std::string& k) -> std::optional<std::string> {
        if (opt.environment)
            if (auto v = opt.environment(k)) return v;
        auto it = dotenv.find(k);
        if (it != dotenv.end()) return it->second;
        return std::nullopt;
    };

    json merged = json::object();
    Origins origins;
    for (const auto& f : files) {
        auto text = sys::read_file(f);
        if (!text) return make_error(CTR_E_NOT_FOUND, "cannot read \"" + f.string() + "\": " + text.error().message);
        YAML::Node doc;
        try {
            doc = YAML::Load(*text);
        } catch (const YAML::Exception& e) {
            return make_error(CTR_E_INVALID_ARGUMENT, f.string() + ":" + std::to_string(e.mark.line + 1) + ":" +
                                                          std::to_string(e.mark.column + 1) + ": YAML: " + e.msg);
        }
        Origins mine;
        auto j = CTR_TRY(to_json(doc, "", f.string(), mine, env));
        if (j.is_null()) j = json::object();
        CTR_TRY_STATUS(check_file(j, mine, project.warnings));
        for (const auto& [p, w] : mine) origins[p] = w;  // the last file to set a value owns it
        lists_to_maps(j);
        merge_into(merged, j);
    }

    std::string name = opt.project_name;
    if (name.empty() && merged.contains("name") && merged["name"].is_string()) name = merged["name"];
    if (name.empty())
        if (auto e = opt.environment ? opt.environment("COMPOSE_PROJECT_NAME") : std::nullopt) name = *e;
    if (name.empty()) name = fs::absolute(project.dir).lexically_normal().filename().string();
    project.name = normalize_project_name(name);
    if (project.name.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "project name \"" + name + "\" has no letters or digits; give one with -p");

    json top = {{"networks", merged.value("networks", json::object())}, {"volumes", merged.value("volumes", json::object())}};
    for (auto& kind : {"networks", "volumes"})
        if (top[kind].is_null()) top[kind] = json::object();
    Ctx ctx{origins, project.dir, env, project.warnings};

    json model = {{"name", project.name}, {"services", json::object()}, {"networks", json::object()}, {"volumes", json::object()}};
    json services = merged.value("services", json::object());
    if (services.is_null() || services.empty()) return make_error(CTR_E_INVALID_ARGUMENT, files.front().string() + ": no services");
    for (const auto& [svc, s] : services.items()) {
        static const std::regex svc_re("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
        if (!std::regex_match(svc, svc_re)) return at(origin_of(origins, "/services/" + svc), "invalid service name \"" + svc + "\"");
        model["services"][svc] = CTR_TRY(service_of(svc, s.is_null() ? json::object() : s, ctx, top));
    }
    CTR_TRY_STATUS(check_graph(model["services"], origins));

    // Networks and volumes get the project's prefix unless external or named.
    bool uses_default = false;
    for (const auto& [svc, s] : model["services"].items())
        if (s.contains("networks") && s["networks"].contains("default")) uses_default = true;
    if (uses_default && !top["networks"].contains("default")) top["networks"]["default"] = nullptr;
    for (const auto& [net, spec] : top["networks"].items()) {
        std::string p = "/networks/" + net;
        json s = spec.is_null() ? json::object() : spec;
        bool external = s.contains("external") ? CTR_TRY(bool_of(s["external"], p + "/external", ctx)) : false;
        json n = {{"name", s.contains("name") ? text_of(s["name"]) : external ? net : project.name + "_" + net},
                  {"external", external},
                  {"internal", s.contains("internal") ? CTR_TRY(bool_of(s["internal"], p + "/internal", ctx)) : false},
                  {"labels", s.contains("labels") ? CTR_TRY(map_of(s["labels"], p + "/labels", ctx, '=', false)) : json::object()}};
        if (s.contains("driver") && text_of(s["driver"]) != "bridge")
            return ctx.err(p + "/driver", "\"" + text_of(s["driver"]) + "\" is not supported (bridge)");
        if (s.contains("ipam") && s["ipam"].is_object() && s["ipam"].contains("config") && s["ipam"]["config"].is_array() &&
            !s["ipam"]["config"].empty()) {
            const json& cfg = s["ipam"]["config"][0];
            if (cfg.contains("subnet")) n["subnet"] = text_of(cfg["subnet"]);
            if (cfg.contains("gateway")) n["gateway"] = text_of(cfg["gateway"]);
        }
        model["networks"][net] = n;
    }
    for (const auto& [vol, spec] : top["volumes"].items()) {
        std::string p = "/volumes/" + vol;
        json s = spec.is_null() ? json::object() : spec;
        bool external = s.contains("external") ? CTR_TRY(bool_of(s["external"], p + "/external", ctx)) : false;
        if (s.contains("driver") && text_of(s["driver"]) != "local")
            return ctx.err(p + "/driver", "\"" + text_of(s["driver"]) + "\" is not supported (local)");
        model["volumes"][vol] = {{"name", s.contains("name") ? text_of(s["name"]) : external ? vol : project.name + "_" + vol},
                                 {"external", external},
                                 {"labels", s.contains("labels") ? CTR_TRY(map_of(s["labels"], p + "/labels", ctx, '=', false)) : json::object()}};
    }
    project.model = model;
    return project;
}

}  // namespace ctr::compose
