// One service of a compose file in the model's shape: each key Compose
// allows in several spellings (lists or mappings, strings or numbers) read
// into one, with errors that name the file, the line and the key.
#include "compose/project_parts.hpp"

#include "compose/dotenv.hpp"
#include "compose/yaml_in.hpp"
#include <ctr/base/units.hpp>
#include <ctr/sys/files.hpp>

#include <regex>
#include <set>

namespace ctr::compose::detail {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {


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
            out.push_back(yaml_text(x));
        }
        return out;
    }
    return c.err(p, "must be a string or a list of strings");
}

Result<std::vector<std::string>> strings_of(const json& v, const std::string& p, const Ctx& c) {
    std::vector<std::string> out;
    if (v.is_null()) return out;
    if (v.is_string() || v.is_number()) return std::vector<std::string>{yaml_text(v)};
    if (!v.is_array()) return c.err(p, "must be a string or a list");
    for (const auto& x : v) {
        if (x.is_object() || x.is_array() || x.is_null()) return c.err(p, "must be a list of strings");
        out.push_back(yaml_text(x));
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
                out[k] = yaml_text(x);
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
    auto b = parse_size(yaml_text(v), dotted(p));
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
            std::string s = x.contains("host_ip") ? yaml_text(x["host_ip"]) + ":" : "";
            if (x.contains("published") && !x["published"].is_null()) s += yaml_text(x["published"]) + ":";
            else if (!s.empty()) s += ":";
            s += yaml_text(x["target"]);
            if (x.contains("protocol")) s += "/" + yaml_text(x["protocol"]);
            out.push_back(s);
        } else if (x.is_string() || x.is_number_integer()) {
            out.push_back(yaml_text(x));
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
            m["source"] = x.contains("source") ? yaml_text(x["source"]) : "";
            if (!x.contains("target")) return c.err(pi, "target is required");
            m["target"] = yaml_text(x["target"]);
            if (x.contains("read_only")) m["read_only"] = CTR_TRY(bool_of(x["read_only"], pi + "/read_only", c));
            if (type == "tmpfs" && x.contains("tmpfs") && x["tmpfs"].is_object()) {
                if (x["tmpfs"].contains("size")) m["size"] = CTR_TRY(bytes_of(x["tmpfs"]["size"], pi + "/tmpfs/size", c));
                if (x["tmpfs"].contains("mode")) m["mode"] = yaml_text(x["tmpfs"]["mode"]);
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

// network_mode, or networks: a list or a mapping, each declared at the top
// level (but "default").
Status networks_into(json& out, const std::string& p, const json& s, const Ctx& c, const json& top) {
    if (s.contains("network_mode") && !s["network_mode"].is_null()) {
        std::string mode = yaml_text(s["network_mode"]);
        const bool joins = (mode.rfind("service:", 0) == 0 && mode.size() > 8) || (mode.rfind("container:", 0) == 0 && mode.size() > 10);
        if (mode != "none" && mode != "host" && mode != "bridge" && !joins)
            return c.err(p + "/network_mode", "\"" + mode + "\" is not supported (none, host, bridge, service:NAME or container:NAME)");
        if (s.contains("networks") && mode != "bridge") return c.err(p + "/network_mode", "cannot go with networks");
        if (mode != "bridge") out["network_mode"] = mode;
    }
    if (!out.contains("network_mode")) {
        json nets = json::object();
        if (s.contains("networks") && !s["networks"].is_null()) {
            const json& n = s["networks"];
            if (n.is_array()) {
                for (const auto& x : n) nets[yaml_text(x)] = {{"aliases", json::array()}};
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

    return ok();
}

Result<json> depends_on_of(const std::string& p, const json& s, const Ctx& c) {
    json deps = json::object();
    if (s.contains("depends_on") && !s["depends_on"].is_null()) {
        const json& d = s["depends_on"];
        if (d.is_array()) {
            for (const auto& x : d) deps[yaml_text(x)] = {{"condition", "service_started"}, {"required", true}};
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
    return deps;
}

// Limits: deploy.resources.limits, or the older cpus / mem_limit.
Status limits_into(json& out, const std::string& p, const json& s, const Ctx& c) {
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
    return ok();
}

// security_opt as docker compose sends it: a seccomp profile's file (from
// the project's folder) read into its JSON, the rest as written.
Status security_opt_into(json& out, const std::string& p, const json& s, const Ctx& c) {
    json opts = json::array();
    for (const auto& o : CTR_TRY(strings_of(s["security_opt"], p + "/security_opt", c))) {
        auto sep = o.find_first_of("=:");
        std::string value = sep == std::string::npos ? "" : o.substr(sep + 1);
        if (o.substr(0, sep) != "seccomp" || value == "unconfined" || (!value.empty() && value.front() == '{')) {
            opts.push_back(o);
            continue;
        }
        fs::path file = fs::path(value).is_absolute() ? fs::path(value) : c.dir / value;
        auto text = sys::read_file(file);
        if (!text) return c.err(p + "/security_opt", "cannot read the seccomp profile \"" + file.string() + "\": " + text.error().message);
        opts.push_back("seccomp=" + *text);
    }
    out["security_opt"] = opts;
    return ok();
}

// privileged, devices (short "HOST[:CONTAINER][:rwm]" or long {source,
// target, permissions}), sysctls (a list of KEY=VALUE or a mapping), cgroup
// (host or private); the daemon checks what they say.
Status host_access_into(json& out, const std::string& p, const json& s, const Ctx& c) {
    if (s.contains("privileged")) out["privileged"] = CTR_TRY(bool_of(s["privileged"], p + "/privileged", c));
    if (s.contains("devices")) {
        if (!s["devices"].is_array()) return c.err(p + "/devices", "must be a list");
        json devices = json::array();
        for (size_t i = 0; i < s["devices"].size(); ++i) {
            const json& d = s["devices"][i];
            if (d.is_string()) {
                devices.push_back(d);
            } else if (d.is_object() && d.contains("source") && d["source"].is_string()) {
                std::string text = d["source"].get<std::string>() + ":" + d.value("target", d["source"].get<std::string>());
                if (d.contains("permissions")) text += ":" + yaml_text(d["permissions"]);
                devices.push_back(text);
            } else {
                return c.err(p + "/devices/" + std::to_string(i), "want \"HOST[:CONTAINER][:rwm]\" or {source, target, permissions}");
            }
        }
        out["devices"] = devices;
    }
    if (s.contains("sysctls")) {
        json list = json::array();
        if (s["sysctls"].is_object())
            for (const auto& [k, v] : s["sysctls"].items()) list.push_back(k + "=" + yaml_text(v));
        else
            for (const auto& x : CTR_TRY(strings_of(s["sysctls"], p + "/sysctls", c))) list.push_back(x);
        out["sysctls"] = list;
    }
    if (s.contains("cgroup")) {
        std::string mode = yaml_text(s["cgroup"]);
        if (mode != "host" && mode != "private") return c.err(p + "/cgroup", "want host or private, not \"" + mode + "\"");
        out["cgroup"] = mode;
    }
    return ok();
}

// The rest: flags, sizes, lists, extra_hosts and ulimits.
Status options_into(json& out, const std::string& p, const json& s, const Ctx& c) {
    if (s.contains("shm_size")) out["shm_size"] = CTR_TRY(bytes_of(s["shm_size"], p + "/shm_size", c));
    if (s.contains("tmpfs")) out["tmpfs"] = CTR_TRY(strings_of(s["tmpfs"], p + "/tmpfs", c));
    if (s.contains("logging") && !s["logging"].is_null()) {
        // The daemon checks driver and options (services/log_options.hpp);
        // here they only become strings ("max-file: 3" is a number in YAML).
        const json& l = s["logging"];
        if (!l.is_object()) return c.err(p + "/logging", "must be a mapping with driver and options");
        json logging = {{"driver", l.contains("driver") ? yaml_text(l["driver"]) : ""}, {"options", json::object()}};
        if (l.contains("options") && !l["options"].is_null()) {
            if (!l["options"].is_object()) return c.err(p + "/logging/options", "must be a mapping");
            for (const auto& [k, v] : l["options"].items()) logging["options"][k] = yaml_text(v);
        }
        out["logging"] = logging;
    }
    for (const char* k : {"init", "tty", "stdin_open", "read_only"})
        if (s.contains(k)) out[k] = CTR_TRY(bool_of(s[k], p + "/" + k, c));
    if (s.contains("stop_grace_period")) out["stop_grace_period"] = CTR_TRY(seconds_of(s["stop_grace_period"], p + "/stop_grace_period", c));
    for (const char* k : {"cap_add", "cap_drop", "dns", "dns_search"})
        if (s.contains(k)) out[k] = CTR_TRY(strings_of(s[k], p + "/" + k, c));
    if (s.contains("extra_hosts")) {
        json hosts = json::array();
        if (s["extra_hosts"].is_object()) {
            for (const auto& [h, ip] : s["extra_hosts"].items()) hosts.push_back(h + ":" + yaml_text(ip));
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
            if (v.is_object()) list.push_back(k + "=" + yaml_text(v.value("soft", json(0))) + ":" + yaml_text(v.value("hard", json(0))));
            else list.push_back(k + "=" + yaml_text(v));
        }
        out["ulimits"] = list;
    }
    if (s.contains("security_opt")) CTR_TRY_STATUS(security_opt_into(out, p, s, c));
    CTR_TRY_STATUS(host_access_into(out, p, s, c));
    return ok();
}

}  // namespace

// build: a context path, or {context, dockerfile, args, target, labels}:
// the context made absolute from the project's directory.
static Result<json> build_of(const json& b, const std::string& p, const Ctx& c) {
    json spec = b.is_string() ? json{{"context", b}} : b;
    if (!spec.is_object()) return c.err(p, "must be a path or a mapping");
    for (const auto& [k, v] : spec.items())
        if (k != "context" && k != "dockerfile" && k != "args" && k != "target" && k != "labels" && k.rfind("x-", 0) != 0)
            return c.err(p + "/" + k, "not supported (context, dockerfile, args, target and labels are)");
    std::string context = spec.contains("context") ? yaml_text(spec["context"]) : ".";
    if (context.find("://") != std::string::npos || context.rfind("git@", 0) == 0)
        return c.err(p + "/context", "\"" + context + "\": only a local directory is supported");
    json out = {{"context", (fs::path(context).is_absolute() ? fs::path(context) : c.dir / context).lexically_normal().string()}};
    if (spec.contains("dockerfile")) out["dockerfile"] = yaml_text(spec["dockerfile"]);
    if (spec.contains("target")) out["target"] = yaml_text(spec["target"]);
    out["args"] = spec.contains("args") ? CTR_TRY(map_of(spec["args"], p + "/args", c, '=', true)) : json::object();
    out["labels"] = spec.contains("labels") ? CTR_TRY(map_of(spec["labels"], p + "/labels", c, '=', false)) : json::object();
    return out;
}

Result<json> service_of(const std::string& name, const json& s, const Ctx& c, const json& top) {
    const std::string p = "/services/" + name;
    json out = json::object();
    if (s.contains("build")) {
        out["build"] = CTR_TRY(build_of(s["build"], p + "/build", c));
        // Compose's name for the image it builds, unless the file names one.
        out["image"] = c.project + "-" + name;
    }
    if (s.contains("image") && s["image"].is_string() && !s["image"].get<std::string>().empty()) out["image"] = s["image"];
    else if (!s.contains("build"))
        return at(origin_of(c.origins, p), "service " + name + ": image or build is required");
    for (const char* k : {"container_name", "working_dir", "user", "hostname", "stop_signal", "platform"})
        if (s.contains(k) && !s[k].is_null()) out[k] = yaml_text(s[k]);
    if (s.contains("x-container-runtime")) out["runtime"] = yaml_text(s["x-container-runtime"]);
    if (s.contains("restart")) {
        std::string r = s["restart"].is_boolean() && !s["restart"].get<bool>() ? "no" : yaml_text(s["restart"]);
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

    CTR_TRY_STATUS(networks_into(out, p, s, c, top));
    out["depends_on"] = CTR_TRY(depends_on_of(p, s, c));
    // On another service's network: that one starts first, as compose has it.
    if (const std::string mode = out.value("network_mode", ""); mode.rfind("service:", 0) == 0 && !out["depends_on"].contains(mode.substr(8)))
        out["depends_on"][mode.substr(8)] = {{"condition", "service_started"}, {"required", true}};
    if (s.contains("healthcheck")) {
        auto hc = CTR_TRY(healthcheck_of(s["healthcheck"], p + "/healthcheck", c));
        if (!hc.is_null()) out["healthcheck"] = hc;
    }

    CTR_TRY_STATUS(limits_into(out, p, s, c));
    CTR_TRY_STATUS(options_into(out, p, s, c));
    return out;
}

Status top_level_into(json& model, json top, const std::string& project, const Ctx& ctx) {
    // Networks and volumes get the project's prefix unless external or named.
    bool uses_default = false;
    for (const auto& [svc, s] : model["services"].items())
        if (s.contains("networks") && s["networks"].contains("default")) uses_default = true;
    if (uses_default && !top["networks"].contains("default")) top["networks"]["default"] = nullptr;
    for (const auto& [net, spec] : top["networks"].items()) {
        std::string p = "/networks/" + net;
        json s = spec.is_null() ? json::object() : spec;
        bool external = s.contains("external") ? CTR_TRY(bool_of(s["external"], p + "/external", ctx)) : false;
        json n = {{"name", s.contains("name") ? yaml_text(s["name"]) : external ? net : project + "_" + net},
                  {"external", external},
                  {"internal", s.contains("internal") ? CTR_TRY(bool_of(s["internal"], p + "/internal", ctx)) : false},
                  {"labels", s.contains("labels") ? CTR_TRY(map_of(s["labels"], p + "/labels", ctx, '=', false)) : json::object()}};
        if (s.contains("driver") && yaml_text(s["driver"]) != "bridge")
            return ctx.err(p + "/driver", "\"" + yaml_text(s["driver"]) + "\" is not supported (bridge)");
        if (s.contains("ipam") && s["ipam"].is_object() && s["ipam"].contains("config") && s["ipam"]["config"].is_array() &&
            !s["ipam"]["config"].empty()) {
            const json& cfg = s["ipam"]["config"][0];
            if (cfg.contains("subnet")) n["subnet"] = yaml_text(cfg["subnet"]);
            if (cfg.contains("gateway")) n["gateway"] = yaml_text(cfg["gateway"]);
        }
        model["networks"][net] = n;
    }
    for (const auto& [vol, spec] : top["volumes"].items()) {
        std::string p = "/volumes/" + vol;
        json s = spec.is_null() ? json::object() : spec;
        bool external = s.contains("external") ? CTR_TRY(bool_of(s["external"], p + "/external", ctx)) : false;
        if (s.contains("driver") && yaml_text(s["driver"]) != "local")
            return ctx.err(p + "/driver", "\"" + yaml_text(s["driver"]) + "\" is not supported (local)");
        model["volumes"][vol] = {{"name", s.contains("name") ? yaml_text(s["name"]) : external ? vol : project + "_" + vol},
                                 {"external", external},
                                 {"labels", s.contains("labels") ? CTR_TRY(map_of(s["labels"], p + "/labels", ctx, '=', false)) : json::object()}};
    }
    return ok();
}

}  // namespace ctr::compose::detail
