// The run request: what `run` and `create` ask for, read from the API's
// JSON and checked field by field, each error naming the flag and value.
#include "services/spec.hpp"

#include "services/names.hpp"
#include "services/seccomp.hpp"

#include <unistd.h>

#include <map>
#include <regex>
#include <sstream>

namespace ctr::services {

using nlohmann::json;

namespace {

Result<std::vector<std::string>> strings(const json& body, const char* key) {
    std::vector<std::string> out;
    if (!body.contains(key) || body[key].is_null()) return out;
    if (!body[key].is_array()) return make_error(CTR_E_INVALID_ARGUMENT, std::string(key) + " must be an array of strings");
    for (const auto& v : body[key]) {
        if (!v.is_string()) return make_error(CTR_E_INVALID_ARGUMENT, std::string(key) + " must be an array of strings");
        out.push_back(v);
    }
    return out;
}

}  // namespace

// "net_admin", "CAP_NET_ADMIN", "all" -> "CAP_NET_ADMIN" / "ALL"; unknown: error.
Result<std::string> cap_name(const std::string& text, const char* flag) {
    std::string up;
    for (char ch : text) up += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (up == "ALL") return up;
    if (up.rfind("CAP_", 0) != 0) up = "CAP_" + up;
    for (const auto& c : all_capabilities())
        if (up == c) return up;
    return make_error(CTR_E_INVALID_ARGUMENT, std::string(flag) + ": unknown capability \"" + text + "\"");
}

// "nofile=1024:2048" -> RLIMIT_NOFILE; values "unlimited" or numbers; soft <= hard.
Result<Rlimit> parse_ulimit(const std::string& text) {
    static const std::map<std::string, std::string> names = {
        {"core", "RLIMIT_CORE"}, {"cpu", "RLIMIT_CPU"}, {"data", "RLIMIT_DATA"}, {"fsize", "RLIMIT_FSIZE"},
        {"locks", "RLIMIT_LOCKS"}, {"memlock", "RLIMIT_MEMLOCK"}, {"msgqueue", "RLIMIT_MSGQUEUE"}, {"nice", "RLIMIT_NICE"},
        {"nofile", "RLIMIT_NOFILE"}, {"nproc", "RLIMIT_NPROC"}, {"rss", "RLIMIT_RSS"}, {"rtprio", "RLIMIT_RTPRIO"},
        {"rttime", "RLIMIT_RTTIME"}, {"sigpending", "RLIMIT_SIGPENDING"}, {"stack", "RLIMIT_STACK"}, {"as", "RLIMIT_AS"}};
    auto bad = [&](const std::string& why) { return make_error(CTR_E_INVALID_ARGUMENT, "--ulimit \"" + text + "\": " + why); };
    auto eq = text.find('=');
    if (eq == std::string::npos) return bad("want type=soft[:hard]");
    auto it = names.find(text.substr(0, eq));
    if (it == names.end()) return bad("unknown type \"" + text.substr(0, eq) + "\"");
    std::string values = text.substr(eq + 1);
    auto colon = values.find(':');
    auto number = [&](const std::string& v) -> Result<uint64_t> {
        if (v == "unlimited" || v == "-1") return ~uint64_t{0};
        if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) return bad("\"" + v + "\" is not a number");
        return static_cast<uint64_t>(std::stoull(v));
    };
    Rlimit r{it->second, 0, 0};
    r.soft = CTR_TRY(number(values.substr(0, colon)));
    r.hard = colon == std::string::npos ? r.soft : CTR_TRY(number(values.substr(colon + 1)));
    if (r.soft > r.hard) return bad("the soft limit is above the hard limit");
    return r;
}

Result<VolumeSpec> VolumeSpec::parse(const std::string& text) {
    auto bad = [&](const std::string& why) {
        return make_error(CTR_E_INVALID_ARGUMENT, "invalid volume \"" + text + "\": " + why);
    };
    std::vector<std::string> parts;
    std::stringstream ss(text);
    std::string part;
    while (std::getline(ss, part, ':')) parts.push_back(part);
    if (parts.empty() || parts.size() > 3) return bad("want [SOURCE:]DESTINATION[:ro|rw]");
    VolumeSpec v;
    if (parts.size() == 3 || (parts.size() == 2 && (parts[1] == "ro" || parts[1] == "rw"))) {
        std::string mode = parts.back();
        if (mode != "ro" && mode != "rw") return bad("options must be ro or rw, not \"" + mode + "\"");
        v.read_only = mode == "ro";
        parts.pop_back();
    }
    if (parts.size() == 1) {
        v.kind = Kind::anonymous;
        v.destination = parts[0];
    } else {
        v.source = parts[0];
        v.destination = parts[1];
        v.kind = v.source.front() == '/' || v.source.front() == '.' ? Kind::bind : Kind::named;
        if (v.kind == Kind::bind && v.source.front() != '/') return bad("a host path must be absolute");
    }
    if (v.destination.empty() || v.destination.front() != '/') return bad("the destination must be an absolute path");
    std::filesystem::path dst = std::filesystem::path(v.destination).lexically_normal();
    if (dst == "/" || dst.string().find("..") != std::string::npos) return bad("the destination must not be / or hold ..");
    for (const char* forbidden : {"/proc", "/sys", "/dev"})
        if (dst == forbidden || dst.string().rfind(std::string(forbidden) + "/", 0) == 0)
            return bad(std::string("cannot mount over ") + forbidden);
    v.destination = dst.string();
    return v;
}

Result<std::variant<VolumeSpec, std::string>> parse_mount(const std::string& text) {
    auto bad = [&](const std::string& why) { return make_error(CTR_E_INVALID_ARGUMENT, "--mount \"" + text + "\": " + why); };
    std::string type = "volume", source, target, size, mode;
    bool read_only = false;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        auto eq = item.find('=');
        std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
        if (key == "type") type = value;
        else if (key == "source" || key == "src") source = value;
        else if (key == "target" || key == "destination" || key == "dst") target = value;
        else if (key == "readonly" || key == "ro") {
            if (eq == std::string::npos || value == "true" || value == "1") read_only = true;
            else if (value == "false" || value == "0") read_only = false;
            else return bad(key + " takes true or false, not \"" + value + "\"");
        } else if (key == "tmpfs-size") size = value;
        else if (key == "tmpfs-mode") mode = value;
        else return bad("unknown key \"" + key + "\" (known: type, source, target, readonly, tmpfs-size, tmpfs-mode)");
    }
    if (target.empty()) return bad("target is required");
    if (type == "tmpfs") {
        if (!source.empty()) return bad("a tmpfs has no source");
        if (!size.empty() && size.find_first_not_of("0123456789") != std::string::npos) return bad("tmpfs-size is a number of bytes");
        if (!mode.empty() && mode.find_first_not_of("01234567") != std::string::npos) return bad("tmpfs-mode is an octal mode");
        std::string spec = target;
        std::string opts = (size.empty() ? "" : "size=" + size) + (mode.empty() ? "" : std::string(size.empty() ? "" : ",") + "mode=" + mode);
        if (read_only) opts += std::string(opts.empty() ? "" : ",") + "ro";
        if (!opts.empty()) spec += ":" + opts;
        if (target.front() != '/') return bad("target must be an absolute path");
        return std::variant<VolumeSpec, std::string>(spec);
    }
    if (!size.empty() || !mode.empty()) return bad("tmpfs-size and tmpfs-mode are for type=tmpfs");
    std::string as_volume;
    if (type == "bind") {
        if (source.empty() || source.front() != '/') return bad("a bind needs an absolute source");
        as_volume = source + ":" + target;
    } else if (type == "volume") {
        if (!source.empty() && source.front() == '/') return bad("a volume's source is a volume name (type=bind for a host path)");
        as_volume = source.empty() ? target : source + ":" + target;
    } else {
        return bad("type must be bind, volume or tmpfs, not \"" + type + "\"");
    }
    if (read_only) as_volume += ":ro";
    auto v = VolumeSpec::parse(as_volume);
    if (!v) return bad(v.error().message);
    return std::variant<VolumeSpec, std::string>(*v);
}

std::string VolumeSpec::str() const {
    std::string s = kind == Kind::anonymous ? destination : source + ":" + destination;
    return read_only ? s + ":ro" : s;
}

Result<json> normalize_healthcheck(const json& j) {
    auto bad = [](const std::string& m) { return make_error(CTR_E_INVALID_ARGUMENT, "healthcheck: " + m); };
    if (!j.is_object()) return bad("must be an object");
    for (const auto& [k, v] : j.items())
        if (k != "test" && k != "interval" && k != "timeout" && k != "start_period" && k != "retries")
            return bad("unknown field \"" + k + "\"");
    if (!j.contains("test")) return bad("test is required");
    const json& t = j["test"];
    std::vector<std::string> argv;
    if (t.is_string()) {
        if (t.get<std::string>().empty()) return bad("test must not be empty");
        argv = {"/bin/sh", "-c", t.get<std::string>()};
    } else if (t.is_array() && !t.empty() && std::all_of(t.begin(), t.end(), [](const json& x) { return x.is_string(); })) {
        std::string kind = t[0];
        if (kind == "NONE") return json(nullptr);
        if (kind == "CMD-SHELL") {
            if (t.size() != 2) return bad("CMD-SHELL takes one script");
            argv = {"/bin/sh", "-c", t[1].get<std::string>()};
        } else if (kind == "CMD") {
            if (t.size() < 2) return bad("CMD needs a command");
            for (size_t i = 1; i < t.size(); ++i) argv.push_back(t[i]);
        } else {
            return bad("test must start with CMD, CMD-SHELL or NONE, not \"" + kind + "\"");
        }
    } else {
        return bad("test must be a string or a list of strings");
    }
    json out = {{"test", argv}, {"interval", 30.0}, {"timeout", 30.0}, {"start_period", 0.0}, {"retries", 3}};
    for (const char* k : {"interval", "timeout", "start_period"}) {
        if (!j.contains(k)) continue;
        if (!j[k].is_number() || j[k].get<double>() < 0 || (std::string(k) != "start_period" && j[k].get<double>() <= 0))
            return bad(std::string(k) + " must be a positive number of seconds");
        out[k] = j[k].get<double>();
    }
    if (j.contains("retries")) {
        if (!j["retries"].is_number_integer() || j["retries"].get<int64_t>() < 1 || j["retries"].get<int64_t>() > 1000)
            return bad("retries must be a whole number from 1 to 1000");
        out["retries"] = j["retries"];
    }
    return out;
}

namespace {

// --memory and --cpus, in the ranges the kernel and Docker accept.
Status read_cpu_memory(const json& b, RunRequest& r) {
    if (b.contains("memory")) {
        if (!b["memory"].is_number_integer() || b["memory"].get<int64_t>() < 0)
            return make_error(CTR_E_INVALID_ARGUMENT, "memory must be a byte count");
        r.memory = b["memory"];
        if (r.memory != 0 && r.memory < 6 * 1024 * 1024)
            return make_error(CTR_E_INVALID_ARGUMENT, "memory: minimum is 6 MiB, not " + std::to_string(r.memory) + " bytes");
    }
    if (b.contains("cpus")) {
        if (!b["cpus"].is_number() || b["cpus"].get<double>() < 0) return make_error(CTR_E_INVALID_ARGUMENT, "cpus must be a positive number");
        r.cpus = b["cpus"];
        // Docker's range: from 0.01 (a CFS quota under 1 ms of a 100 ms
        // period is refused by the kernel) to the CPUs this host has.
        long online = ::sysconf(_SC_NPROCESSORS_ONLN);
        if (r.cpus != 0 && (r.cpus < 0.01 || (online > 0 && r.cpus > static_cast<double>(online))))
        {
            std::ostringstream m;
            m << "--cpus " << r.cpus << ": the range is from 0.01 to " << online << ".00, as this host has " << online << " CPUs";
            return make_error(CTR_E_INVALID_ARGUMENT, m.str());
        }
    }
    return ok();
}

// -v, --tmpfs and --mount (into the same lists), and no two at one place.
Status read_mounts(const json& b, RunRequest& r) {
    for (const auto& v : CTR_TRY(strings(b, "volumes"))) r.volumes.push_back(CTR_TRY(VolumeSpec::parse(v)));
    for (const auto& from : CTR_TRY(strings(b, "volumes_from"))) {
        const auto colon = from.rfind(':');
        const std::string mode = colon == std::string::npos ? "" : from.substr(colon + 1);
        if (from.empty() || colon == 0 || (colon != std::string::npos && mode != "ro" && mode != "rw"))
            return make_error(CTR_E_INVALID_ARGUMENT, "--volumes-from \"" + from + "\": it must be CONTAINER, CONTAINER:ro or CONTAINER:rw");
        r.volumes_from.push_back(from);
    }
    r.read_only = b.value("read_only", false);
    r.tmpfs = CTR_TRY(strings(b, "tmpfs"));
    // --mount: into the same lists as -v and --tmpfs (to_json writes those).
    for (const auto& m : CTR_TRY(strings(b, "mounts"))) {
        auto parsed = CTR_TRY(parse_mount(m));
        if (auto* v = std::get_if<VolumeSpec>(&parsed)) r.volumes.push_back(*v);
        else r.tmpfs.push_back(std::get<std::string>(parsed));
    }
    for (const auto& t : r.tmpfs)
        if (t.empty() || t.front() != '/') return make_error(CTR_E_INVALID_ARGUMENT, "--tmpfs \"" + t + "\": the destination must be absolute");
    for (size_t i = 0; i < r.volumes.size(); ++i)
        for (size_t k = i + 1; k < r.volumes.size(); ++k)
            if (r.volumes[i].destination == r.volumes[k].destination)
                return make_error(CTR_E_INVALID_ARGUMENT, "two volumes at " + r.volumes[i].destination);
    return ok();
}

// --pids-limit, --ulimit and --shm-size.
Status read_limits(const json& b, RunRequest& r) {
    if (b.contains("pids_limit")) {
        if (!b["pids_limit"].is_number_integer() || b["pids_limit"].get<int64_t>() < -1)
            return make_error(CTR_E_INVALID_ARGUMENT, "--pids-limit must be -1 (unlimited), 0 (none) or a positive number");
        r.pids_limit = b["pids_limit"];
    }
    r.ulimits = CTR_TRY(strings(b, "ulimits"));
    for (const auto& u : r.ulimits) {
        auto limit = parse_ulimit(u);
        if (!limit) return limit.error();
    }
    if (b.contains("shm_size")) {
        if (!b["shm_size"].is_number_integer() || b["shm_size"].get<int64_t>() < 0)
            return make_error(CTR_E_INVALID_ARGUMENT, "--shm-size must be a byte count");
        r.shm_size = b["shm_size"];
    }
    return ok();
}

// --security-opt KEY=VALUE (or Docker's older KEY:VALUE): seccomp=unconfined
// or a profile's JSON, no-new-privileges[=true|false], systempaths=unconfined;
// label=disable and apparmor=unconfined are accepted and change nothing
// (neither SELinux nor AppArmor is applied). Anything else is refused.
Status read_security(const json& b, RunRequest& r) {
    r.security_opt = CTR_TRY(strings(b, "security_opt"));
    for (const auto& opt : r.security_opt) {
        auto sep = opt.find_first_of("=:");
        const std::string key = opt.substr(0, sep), value = sep == std::string::npos ? "" : opt.substr(sep + 1);
        auto bad = [&](const std::string& why) {
            return make_error(CTR_E_INVALID_ARGUMENT, "--security-opt \"" + (opt.size() > 80 ? opt.substr(0, 80) + "..." : opt) + "\": " + why);
        };
        if (key == "seccomp") {
            if (value == "unconfined") {
                r.seccomp = "unconfined";
                continue;
            }
            json profile = json::parse(value, nullptr, false);
            if (profile.is_discarded()) return bad("want seccomp=unconfined or seccomp=FILE with a profile in JSON");
            if (auto st = check_seccomp_profile(profile); !st) return bad(st.error().message);
            r.seccomp = std::move(profile);
        } else if (key == "no-new-privileges") {
            if (value != "" && value != "true" && value != "false") return bad("want no-new-privileges, =true or =false");
            r.no_new_privileges = value != "false";
        } else if (key == "systempaths") {
            if (value != "unconfined") return bad("want systempaths=unconfined");
            r.unmask_system_paths = true;
        } else if (key == "label") {
            if (value != "disable") return bad("SELinux labels are not applied here; only label=disable is accepted");
        } else if (key == "apparmor") {
            if (value != "unconfined") return bad("AppArmor profiles are not applied here; only apparmor=unconfined is accepted");
        } else {
            return bad("unknown option; want seccomp=, no-new-privileges, systempaths=unconfined, label=disable or apparmor=unconfined");
        }
    }
    return ok();
}

// --privileged, --device, --sysctl (a list of KEY=VALUE or Docker's map),
// --cgroupns; after the network options, which decide whether net.* may be set.
Status read_host_access(const json& b, RunRequest& r) {
    if (b.contains("privileged") && !b["privileged"].is_boolean()) return make_error(CTR_E_INVALID_ARGUMENT, "privileged must be true or false");
    r.security.privileged = b.value("privileged", false);
    for (const auto& d : CTR_TRY(strings(b, "devices"))) r.security.devices.push_back(CTR_TRY(DeviceRequest::parse(d)));
    std::vector<std::string> sysctls;
    if (b.contains("sysctls") && b["sysctls"].is_object()) {
        for (const auto& [k, v] : b["sysctls"].items()) sysctls.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
    } else {
        sysctls = CTR_TRY(strings(b, "sysctls"));
    }
    for (const auto& text : sysctls) {
        auto [key, value] = CTR_TRY(parse_sysctl(text, r.network.mode == NetworkOptions::Mode::host));
        r.security.sysctls[key] = value;
    }
    r.security.cgroupns = b.value("cgroupns", "");
    if (!r.security.cgroupns.empty() && r.security.cgroupns != "private" && r.security.cgroupns != "host")
        return make_error(CTR_E_INVALID_ARGUMENT, "--cgroupns \"" + r.security.cgroupns + "\": want private or host");
    return ok();
}

}  // namespace

Result<RunRequest> RunRequest::from_json(const json& b) {
    if (!b.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "request body must be an object");
    static const char* const known[] = {"image", "name", "cmd", "entrypoint", "env", "workdir", "user", "hostname",
                                        "runtime", "labels", "memory", "cpus", "rm", "volumes", "volumes_from", "read_only", "tmpfs",
                                        "cap_add", "cap_drop", "pids_limit", "ulimits", "shm_size", "stop_signal",
                                        "stop_timeout", "restart", "tty", "interactive", "init", "mounts",
                                        "healthcheck", "security_opt", "privileged", "devices", "sysctls", "cgroupns"};
    for (const auto& [k, v] : b.items()) {
        bool ok = false;
        for (const char* x : known) ok = ok || k == x;
        ok = ok || NetworkOptions::is_field(k) || TuningOptions::is_field(k) || LogOptions::is_field(k);
        if (!ok) return make_error(CTR_E_INVALID_ARGUMENT, "unknown field \"" + k + "\"");
    }
    RunRequest r;
    if (!b.contains("image") || !b["image"].is_string() || b["image"].get<std::string>().empty())
        return make_error(CTR_E_INVALID_ARGUMENT, "image must be a non-empty string");
    r.image = b["image"];
    r.name = b.value("name", "");
    if (!r.name.empty()) CTR_TRY_STATUS(check_name("container", r.name));
    r.cmd = CTR_TRY(strings(b, "cmd"));
    if (b.contains("entrypoint") && !b["entrypoint"].is_null()) r.entrypoint = CTR_TRY(strings(b, "entrypoint"));
    r.env = CTR_TRY(strings(b, "env"));
    for (const auto& e : r.env)
        if (e.empty() || e.front() == '=') return make_error(CTR_E_INVALID_ARGUMENT, "invalid environment variable \"" + e + "\"");
    r.workdir = b.value("workdir", "");
    if (!r.workdir.empty() && r.workdir.front() != '/')
        return make_error(CTR_E_INVALID_ARGUMENT, "workdir must be an absolute path, not \"" + r.workdir + "\"");
    r.user = b.value("user", "");
    r.hostname = b.value("hostname", "");
    if (r.hostname.size() > 63) return make_error(CTR_E_INVALID_ARGUMENT, "hostname longer than 63 characters");
    r.runtime = b.value("runtime", "");
    if (b.contains("labels")) {
        if (!b["labels"].is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "labels must be an object");
        r.labels = b["labels"];
    }
    CTR_TRY_STATUS(read_cpu_memory(b, r));
    r.tuning = CTR_TRY(TuningOptions::from_json(b, r.memory, r.hostname));
    r.logs = CTR_TRY(LogOptions::from_json(b));
    r.remove = b.value("rm", false);
    r.tty = b.value("tty", false);
    r.interactive = b.value("interactive", false);
    r.init = b.value("init", false);
    if (b.contains("healthcheck") && !b["healthcheck"].is_null()) r.healthcheck = CTR_TRY(normalize_healthcheck(b["healthcheck"]));
    CTR_TRY_STATUS(read_mounts(b, r));
    for (const auto& c : CTR_TRY(strings(b, "cap_add"))) r.cap_add.push_back(CTR_TRY(cap_name(c, "--cap-add")));
    for (const auto& c : CTR_TRY(strings(b, "cap_drop"))) r.cap_drop.push_back(CTR_TRY(cap_name(c, "--cap-drop")));
    CTR_TRY_STATUS(read_limits(b, r));
    r.stop_signal = b.value("stop_signal", "");
    if (b.contains("stop_timeout") && !b["stop_timeout"].is_number_integer())
        return make_error(CTR_E_INVALID_ARGUMENT, "--stop-timeout must be a whole number of seconds");
    r.stop_timeout = b.value("stop_timeout", int64_t{-1});
    if (r.stop_timeout < -1 || r.stop_timeout > kMaxStopTimeout)
        return make_error(CTR_E_INVALID_ARGUMENT, "--stop-timeout " + std::to_string(r.stop_timeout) + ": want -1 (the default) to " +
                                                      std::to_string(kMaxStopTimeout) + " seconds");
    r.restart = b.value("restart", std::string("no"));
    static const std::regex restart_re("no|always|unless-stopped|on-failure(:[0-9]{1,6})?");
    if (!std::regex_match(r.restart, restart_re))
        return make_error(CTR_E_INVALID_ARGUMENT, "--restart \"" + r.restart + "\": want no, on-failure[:N], always or unless-stopped");
    if (r.restart != "no" && r.remove) return make_error(CTR_E_INVALID_ARGUMENT, "--restart and --rm cannot go together");
    CTR_TRY_STATUS(read_security(b, r));
    r.network = CTR_TRY(NetworkOptions::from_json(b));
    if (r.network.mode == NetworkOptions::Mode::container && !r.hostname.empty())
        return make_error(CTR_E_INVALID_ARGUMENT, "--hostname: a container on " + r.network.container + "'s network has " +
                                                      r.network.container + "'s name: not with --network container:" + r.network.container);
    CTR_TRY_STATUS(read_host_access(b, r));
    return r;
}


}  // namespace ctr::services
