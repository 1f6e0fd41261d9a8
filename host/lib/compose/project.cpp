#include "compose/project.hpp"
#include "compose/yaml_in.hpp"

#include "compose/project_parts.hpp"

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

namespace detail {

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

}  // namespace detail

namespace {

using detail::at;
using detail::dotted;
using detail::Origins;
using detail::origin_of;

Result<json> to_json(const YAML::Node& n, const std::string& pointer, const std::string& file, Origins& origins, const Lookup& env) {
    std::string where = file + ":" + std::to_string(n.Mark().line + 1);
    origins[pointer] = where;
    switch (n.Type()) {
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined: return json(nullptr);
        case YAML::NodeType::Scalar: {
            auto value = interpolate(n.Scalar(), env);
            if (!value) return at(where, (pointer.empty() ? "" : dotted(pointer) + ": ") + value.error().message);
            return yaml_scalar(*value, n.Tag() == "!");
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
        {"pids_limit", Support::yes}, {"shm_size", Support::yes}, {"ulimits", Support::yes}, {"security_opt", Support::yes},
        {"privileged", Support::yes}, {"devices", Support::yes}, {"sysctls", Support::yes}, {"cgroup", Support::yes},
        // Read, not acted on: they tune, they do not change what runs.
        {"logging", Support::yes}, {"cpu_shares", Support::warn}, {"cpu_quota", Support::warn}, {"cpu_period", Support::warn},
        {"mem_reservation", Support::warn}, {"mem_swappiness", Support::warn}, {"memswap_limit", Support::warn},
        {"oom_score_adj", Support::warn}, {"pull_policy", Support::warn}, {"links", Support::warn}, {"domainname", Support::warn},
        {"stop_grace", Support::no}, {"build", Support::yes}, {"secrets", Support::no}, {"configs", Support::no},
        {"profiles", Support::no}, {"extends", Support::no}, {"volumes_from", Support::no}, {"external_links", Support::no},
         {"ipc", Support::no},
        {"pid", Support::no}, {"userns_mode", Support::no}, {"cgroup_parent", Support::no}, {"group_add", Support::no}, {"scale", Support::no}, {"mac_address", Support::no}, {"develop", Support::no}};
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

// deploy: resources.limits is read; the rest of Swarm's keys are warned of.
Status check_deploy(const json& d, const std::string& p, const Origins& o, std::vector<std::string>& warnings) {
    CTR_TRY_STATUS(check_keys(d, p + "/deploy",
                              {{"resources", Support::yes}, {"replicas", Support::yes}, {"restart_policy", Support::warn},
                               {"labels", Support::warn}, {"mode", Support::warn}, {"placement", Support::warn},
                               {"update_config", Support::warn}, {"rollback_config", Support::warn},
                               {"endpoint_mode", Support::warn}},
                              o, warnings));
    if (!d.contains("resources") || !d["resources"].is_object()) return ok();
    CTR_TRY_STATUS(check_keys(d["resources"], p + "/deploy/resources", {{"limits", Support::yes}, {"reservations", Support::warn}},
                              o, warnings));
    if (d["resources"].contains("limits") && d["resources"]["limits"].is_object())
        CTR_TRY_STATUS(check_keys(d["resources"]["limits"], p + "/deploy/resources/limits",
                                  {{"cpus", Support::yes}, {"memory", Support::yes}, {"pids", Support::yes}}, o, warnings));
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
        if (svc.contains("deploy") && svc["deploy"].is_object()) CTR_TRY_STATUS(check_deploy(svc["deploy"], p, o, warnings));
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

// The files given, else the first of the usual names in the working dir.
Result<std::vector<fs::path>> compose_files(const LoadOptions& opt) {
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
    return files;
}

// The .env files' variables (--env-file, else the project's .env).
Result<std::map<std::string, std::string>> dotenv_variables(const LoadOptions& opt, const fs::path& dir) {
    std::map<std::string, std::string> dotenv;
    std::vector<fs::path> env_files;
    for (const auto& e : opt.env_files) env_files.push_back(fs::path(e).is_absolute() ? fs::path(e) : opt.working_dir / e);
    std::error_code ec;
    if (opt.env_files.empty() && fs::exists(dir / ".env", ec)) env_files.push_back(dir / ".env");
    for (const auto& f : env_files) {
        auto text = sys::read_file(f);
        if (!text) return make_error(CTR_E_NOT_FOUND, "--env-file: cannot read \"" + f.string() + "\": " + text.error().message);
        auto vars = CTR_TRY(parse_dotenv(*text, f.string()));
        for (const auto& [k, v] : vars) dotenv[k] = v;
    }
    return dotenv;
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
    auto files = CTR_TRY(compose_files(opt));
    project.files = files;
    project.dir = files.front().parent_path();
    // Variables: the caller's environment first, then the .env files.

    auto dotenv = CTR_TRY(dotenv_variables(opt, project.dir));
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
    detail::Ctx ctx{origins, project.dir, env, project.warnings, project.name};

    json model = {{"name", project.name}, {"services", json::object()}, {"networks", json::object()}, {"volumes", json::object()}};
    json services = merged.value("services", json::object());
    if (services.is_null() || services.empty()) return make_error(CTR_E_INVALID_ARGUMENT, files.front().string() + ": no services");
    for (const auto& [svc, s] : services.items()) {
        static const std::regex svc_re("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
        if (!std::regex_match(svc, svc_re)) return at(origin_of(origins, "/services/" + svc), "invalid service name \"" + svc + "\"");
        model["services"][svc] = CTR_TRY(detail::service_of(svc, s.is_null() ? json::object() : s, ctx, top));
    }
    CTR_TRY_STATUS(check_graph(model["services"], origins));

    CTR_TRY_STATUS(detail::top_level_into(model, top, project.name, ctx));
    project.model = model;
    return project;
}

}  // namespace ctr::compose
