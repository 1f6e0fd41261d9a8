#include "services/log_options.hpp"

#include <ctr/base/units.hpp>

namespace ctr::services {

using nlohmann::json;

namespace {

Error bad(const std::string& what, const std::string& why) {
    return make_error(CTR_E_INVALID_ARGUMENT, what + ": " + why);
}

// KEY=VALUE pairs from an object of strings (Docker's LogConfig.Config) or a
// list of "KEY=VALUE" (the CLI's --log-opt).
Result<std::map<std::string, std::string>> pairs_of(const json& v) {
    std::map<std::string, std::string> out;
    if (v.is_null()) return out;
    if (v.is_object()) {
        for (const auto& [k, x] : v.items()) {
            if (!x.is_string()) return bad("--log-opt " + k + "=" + x.dump(), "want a string value");
            out[k] = x.get<std::string>();
        }
        return out;
    }
    if (!v.is_array()) return bad("--log-opt", "want KEY=VALUE pairs");
    for (const auto& x : v) {
        const std::string text = x.is_string() ? x.get<std::string>() : x.dump();
        auto eq = text.find('=');
        if (!x.is_string() || eq == std::string::npos || eq == 0) return bad("--log-opt \"" + text + "\"", "want KEY=VALUE");
        out[text.substr(0, eq)] = text.substr(eq + 1);
    }
    return out;
}

}  // namespace

bool LogOptions::is_field(const std::string& key) {
    return key == "log_driver" || key == "log_opts";
}

Result<LogOptions> LogOptions::from_json(const json& b) {
    LogOptions o;
    if (b.contains("log_driver") && !b["log_driver"].is_null()) {
        if (!b["log_driver"].is_string()) return bad("--log-driver " + b["log_driver"].dump(), "want a name");
        const std::string d = b["log_driver"];
        // Podman's name for the same files is k8s-file; Docker's local keeps
        // them in its own format, but `logs` shows the same output.
        if (d != "" && d != "json-file" && d != "local" && d != "k8s-file")
            return bad("--log-driver \"" + d + "\"",
                       "not supported: output is kept in files (json-file, local or k8s-file), bounded by --log-opt max-size= and max-file=");
        if (!d.empty()) o.driver = d;
    }
    o.opts = CTR_TRY(pairs_of(b.contains("log_opts") ? b["log_opts"] : json()));
    for (const auto& [k, v] : o.opts) {
        const std::string what = "--log-opt " + k + "=" + v;
        if (k == "max-size") {
            if (v == "-1") {
                o.max_size = 0;
                continue;
            }
            auto n = parse_size(v, "--log-opt max-size");
            if (!n) return n.error();
            if (*n <= 0) return bad(what, "want a size like 10m, or -1 for no bound");
            o.max_size = *n;
        } else if (k == "max-file") {
            if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos || std::stoll(v) < 1)
                return bad(what, "want a number of files, 1 or more");
            o.max_file = std::stoll(v);
        } else if (k == "compress") {
            if (v != "false") return bad(what, "rotated logs are not compressed here; only compress=false is accepted");
        } else {
            return bad(what, "unknown option; want max-size, max-file or compress=false");
        }
    }
    if (o.max_size > 0 && o.max_size > (int64_t{1} << 50) / o.max_file) return bad("--log-opt max-size * max-file", "too large");
    return o;
}

void LogOptions::to_json(json& j) const {
    j["log_driver"] = driver;
    j["log_opts"] = opts;
    j["log_max_size"] = max_size;
    j["log_max_file"] = max_file;
}

}  // namespace ctr::services
