#include "services/spec.hpp"

#include <ctr/sys/files.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <sys/resource.h>
#include <regex>
#include <sstream>

namespace ctr::services {

using nlohmann::json;

namespace {

// Every capability of Linux 6.x, for --cap-add ALL and for checking names.
const char* const kAllCaps[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
    "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"};

// The default set: Docker's 14.
const char* const kCaps[] = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
                             "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
                             "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};

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

std::string env_key(const std::string& kv) { return kv.substr(0, kv.find('=')); }

}  // namespace

std::vector<std::string> merge_env(std::vector<std::string> base, const std::vector<std::string>& overrides) {
    for (const auto& e : overrides) {
        std::string key = env_key(e);
        base.erase(std::remove_if(base.begin(), base.end(), [&](const std::string& x) { return env_key(x) == key; }), base.end());
        if (e.find('=') != std::string::npos) base.push_back(e);
    }
    return base;
}

namespace {

// uid:gid for `user` ("1000", "1000:1000", "name", "name:group"), from the
// image's /etc/passwd and /etc/group when names are used.
Result<std::pair<int64_t, int64_t>> resolve_user(const std::string& user, const std::filesystem::path& rootfs) {
    if (user.empty()) return std::pair<int64_t, int64_t>{0, 0};
    std::string u = user.substr(0, user.find(':'));
    std::string g = user.find(':') == std::string::npos ? "" : user.substr(user.find(':') + 1);
    auto numeric = [](const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; };
    int64_t uid = -1, gid = -1;
    if (numeric(u)) uid = std::stoll(u);
    if (!g.empty() && numeric(g)) gid = std::stoll(g);
    if (uid < 0 || (gid < 0)) {
        auto passwd = read_in_root(rootfs, "/etc/passwd");
        std::istringstream in(passwd ? *passwd : "");
        std::string line;
        while (std::getline(in, line)) {
            std::vector<std::string> f;
            std::stringstream ls(line);
            std::string part;
            while (std::getline(ls, part, ':')) f.push_back(part);
            if (f.size() < 4) continue;
            if ((uid < 0 && f[0] == u) || (uid >= 0 && numeric(f[2]) && std::stoll(f[2]) == uid)) {
                if (uid < 0) uid = std::stoll(f[2]);
                if (gid < 0 && g.empty() && numeric(f[3])) gid = std::stoll(f[3]);
                break;
            }
        }
        if (uid < 0) return make_error(CTR_E_INVALID_ARGUMENT, "user \"" + u + "\" not found in the image's /etc/passwd");
    }
    if (gid < 0 && !g.empty()) {
        auto group = read_in_root(rootfs, "/etc/group");
        std::istringstream in(group ? *group : "");
        std::string line;
        while (std::getline(in, line)) {
            auto a = line.find(':'), b = line.find(':', a + 1), c = line.find(':', b + 1);
            if (a != std::string::npos && c != std::string::npos && line.substr(0, a) == g && numeric(line.substr(b + 1, c - b - 1)))
                gid = std::stoll(line.substr(b + 1, c - b - 1));
        }
        if (gid < 0) return make_error(CTR_E_INVALID_ARGUMENT, "group \"" + g + "\" not found in the image's /etc/group");
    }
    return std::pair<int64_t, int64_t>{uid, gid < 0 ? 0 : gid};
}

// The default seccomp profile: allow by default, refuse with EPERM what a
// container has no business calling: the kernel keyring (not namespaced),
// kernel modules and kexec, swap, BPF and perf, userfaultfd and io_uring
// (frequent kernel exploit paths), handle-based opens, and the legacy calls
// (moby's default profile blocks the same). The mount and namespace calls are
// refused too unless CAP_SYS_ADMIN was added on purpose.
json default_seccomp(bool sys_admin) {
    std::vector<std::string> deny = {"add_key", "keyctl", "request_key", "kexec_load", "kexec_file_load", "init_module",
                                     "finit_module", "delete_module", "swapon", "swapoff", "bpf", "perf_event_open",
                                     "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "move_pages",
                                     "open_by_handle_at", "lookup_dcookie", "fanotify_init", "acct", "quotactl", "syslog"};
    if (!sys_admin)
        for (const char* s : {"mount", "umount2", "pivot_root", "unshare", "setns", "fsopen", "fsconfig", "fsmount",
                              "fspick", "move_mount", "open_tree", "mount_setattr"})
            deny.push_back(s);
    std::string arch;
#if defined(__x86_64__)
    arch = "SCMP_ARCH_X86_64";
    for (const char* s : {"uselib", "ustat", "sysfs", "_sysctl", "nfsservctl", "create_module", "get_kernel_syms", "query_module"})
        deny.push_back(s);
#elif defined(__aarch64__)
    arch = "SCMP_ARCH_AARCH64";
#endif
    json profile = {{"defaultAction", "SCMP_ACT_ALLOW"},
                    {"syscalls", json::array({{{"names", deny}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}}})}};
    if (!arch.empty()) profile["architectures"] = json::array({arch});
    return profile;
}

}  // namespace

Result<std::string> read_in_root(const std::filesystem::path& root, const std::string& path) {
    sys::UniqueFd rootfd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!rootfd.valid()) return make_error(CTR_E_NOT_FOUND, "open \"" + root.string() + "\": " + std::strerror(errno));
    sys::UniqueFd fd = sys::open_in_root(rootfd.get(), path, O_RDONLY);
    if (!fd.valid()) return make_error(CTR_E_NOT_FOUND, "open \"" + path + "\" in the container: " + std::strerror(errno));
    std::string out;
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fd.get(), buf, sizeof buf)) > 0 && out.size() < (1 << 20)) out.append(buf, static_cast<size_t>(n));
    return out;
}

// "net_admin", "CAP_NET_ADMIN", "all" -> "CAP_NET_ADMIN" / "ALL"; unknown: error.
Result<std::string> cap_name(const std::string& text, const char* flag) {
    std::string up;
    for (char ch : text) up += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (up == "ALL") return up;
    if (up.rfind("CAP_", 0) != 0) up = "CAP_" + up;
    for (const char* c : kAllCaps)
        if (up == c) return up;
    return make_error(CTR_E_INVALID_ARGUMENT, std::string(flag) + ": unknown capability \"" + text + "\"");
}

struct Rlimit {
    std::string type;
    uint64_t soft, hard;
};

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

Result<RunRequest> RunRequest::from_json(const json& b) {
    if (!b.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "request body must be an object");
    static const char* const known[] = {"image", "name", "cmd", "entrypoint", "env", "workdir", "user", "hostname",
                                        "runtime", "labels", "memory", "cpus", "rm", "volumes", "read_only", "tmpfs",
                                        "cap_add", "cap_drop", "pids_limit", "ulimits", "shm_size", "stop_signal",
                                        "stop_timeout", "restart", "tty", "interactive", "init", "mounts",
                                        "healthcheck"};
    for (const auto& [k, v] : b.items()) {
        bool ok = false;
        for (const char* x : known) ok = ok || k == x;
        ok = ok || NetworkOptions::is_field(k);
        if (!ok) return make_error(CTR_E_INVALID_ARGUMENT, "unknown field \"" + k + "\"");
    }
    RunRequest r;
    if (!b.contains("image") || !b["image"].is_string() || b["image"].get<std::string>().empty())
        return make_error(CTR_E_INVALID_ARGUMENT, "image must be a non-empty string");
    r.image = b["image"];
    r.name = b.value("name", "");
    if (!r.name.empty()) {
        static const std::regex re("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
        if (!std::regex_match(r.name, re))
            return make_error(CTR_E_INVALID_ARGUMENT, "invalid container name \"" + r.name + "\": want [A-Za-z0-9][A-Za-z0-9_.-]*, at most 63 characters");
    }
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
    r.remove = b.value("rm", false);
    r.tty = b.value("tty", false);
    r.interactive = b.value("interactive", false);
    r.init = b.value("init", false);
    if (b.contains("healthcheck") && !b["healthcheck"].is_null()) r.healthcheck = CTR_TRY(normalize_healthcheck(b["healthcheck"]));
    for (const auto& v : CTR_TRY(strings(b, "volumes"))) r.volumes.push_back(CTR_TRY(VolumeSpec::parse(v)));
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
    for (const auto& c : CTR_TRY(strings(b, "cap_add"))) r.cap_add.push_back(CTR_TRY(cap_name(c, "--cap-add")));
    for (const auto& c : CTR_TRY(strings(b, "cap_drop"))) r.cap_drop.push_back(CTR_TRY(cap_name(c, "--cap-drop")));
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
    for (size_t i = 0; i < r.volumes.size(); ++i)
        for (size_t k = i + 1; k < r.volumes.size(); ++k)
            if (r.volumes[i].destination == r.volumes[k].destination)
                return make_error(CTR_E_INVALID_ARGUMENT, "two volumes at " + r.volumes[i].destination);
    r.network = CTR_TRY(NetworkOptions::from_json(b));
    return r;
}

json RunRequest::to_json() const {
    json j = {{"image", image}, {"name", name}, {"cmd", cmd}, {"env", env}, {"workdir", workdir}, {"user", user},
              {"hostname", hostname}, {"runtime", runtime}, {"labels", labels}, {"memory", memory}, {"cpus", cpus}, {"rm", remove}};
    if (entrypoint) j["entrypoint"] = *entrypoint;
    json vols = json::array();
    for (const auto& v : volumes) vols.push_back(v.str());
    j["volumes"] = vols;
    j["read_only"] = read_only;
    j["tmpfs"] = tmpfs;
    j["cap_add"] = cap_add;
    j["cap_drop"] = cap_drop;
    j["pids_limit"] = pids_limit;
    j["ulimits"] = ulimits;
    j["shm_size"] = shm_size;
    j["stop_signal"] = stop_signal;
    j["stop_timeout"] = stop_timeout;
    j["restart"] = restart;
    j["tty"] = tty;
    j["interactive"] = interactive;
    j["init"] = init;
    if (!healthcheck.is_null()) j["healthcheck"] = healthcheck;
    network.to_json(j);
    return j;
}

Result<json> make_spec(const RunRequest& req, const json& image_config, const std::filesystem::path& rootfs,
                       const std::string& id, const std::string& cgroup_parent, const std::vector<ResolvedMount>& extra,
                       const SpecNetwork& network) {
    json cfg = image_config.value("config", json::object());
    if (cfg.is_null()) cfg = json::object();
    auto list = [](const json& j, const char* key) {
        std::vector<std::string> out;
        if (j.contains(key) && j[key].is_array())
            for (const auto& v : j[key])
                if (v.is_string()) out.push_back(v);
        return out;
    };
    std::vector<std::string> entry = req.entrypoint ? *req.entrypoint : list(cfg, "Entrypoint");
    std::vector<std::string> cmd = !req.cmd.empty() ? req.cmd : (req.entrypoint ? std::vector<std::string>{} : list(cfg, "Cmd"));
    std::vector<std::string> args = entry;
    args.insert(args.end(), cmd.begin(), cmd.end());
    if (args.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "no command: the image has none and none was given");

    std::vector<std::string> env = merge_env(list(cfg, "Env"), req.env);
    if (std::none_of(env.begin(), env.end(), [](const std::string& x) { return env_key(x) == "PATH"; }))
        env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    std::string hostname = req.hostname.empty() ? id.substr(0, 12) : req.hostname;
    env.push_back("HOSTNAME=" + hostname);
    if (req.tty && std::none_of(env.begin(), env.end(), [](const std::string& x) { return env_key(x) == "TERM"; }))
        env.push_back("TERM=xterm");

    std::string cwd = !req.workdir.empty() ? req.workdir : cfg.value("WorkingDir", std::string());
    if (cwd.empty()) cwd = "/";
    std::string user = !req.user.empty() ? req.user : cfg.value("User", std::string());
    auto [uid, gid] = CTR_TRY(resolve_user(user, rootfs));

    // Capabilities: drop ALL empties the default set; add ALL grants every one;
    // then single additions, then single drops (Apple's and Docker's order).
    std::vector<std::string> capset(std::begin(kCaps), std::end(kCaps));
    auto has = [](const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); };
    if (has(req.cap_drop, "ALL")) capset.clear();
    if (has(req.cap_add, "ALL")) capset.assign(std::begin(kAllCaps), std::end(kAllCaps));
    for (const auto& c : req.cap_add)
        if (c != "ALL" && !has(capset, c)) capset.push_back(c);
    for (const auto& c : req.cap_drop) capset.erase(std::remove(capset.begin(), capset.end(), c), capset.end());
    json caps = capset;
    json resources = json::object();
    if (req.memory > 0) resources["memory"] = {{"limit", req.memory}};
    if (req.cpus > 0) resources["cpu"] = {{"quota", static_cast<int64_t>(req.cpus * 100000)}, {"period", 100000}};
    if (req.pids_limit != 0) resources["pids"] = {{"limit", req.pids_limit}};

    // rlimits: never above what we may set ourselves (root may lack
    // CAP_SYS_RESOURCE): a request above our hard limit is clamped to it.
    json rlimits = json::array();
    for (const auto& text : req.ulimits) {
        Rlimit r = CTR_TRY(parse_ulimit(text));
        static const std::map<std::string, int> ids = {
            {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_CPU", RLIMIT_CPU}, {"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_FSIZE", RLIMIT_FSIZE},
            {"RLIMIT_LOCKS", RLIMIT_LOCKS}, {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
            {"RLIMIT_NICE", RLIMIT_NICE}, {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC},
            {"RLIMIT_RSS", RLIMIT_RSS}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},
            {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK}, {"RLIMIT_AS", RLIMIT_AS}};
        rlimit ours{};
        if (::getrlimit(ids.at(r.type), &ours) == 0 && ours.rlim_max != RLIM_INFINITY) {
            r.hard = std::min<uint64_t>(r.hard, ours.rlim_max);
            r.soft = std::min(r.soft, r.hard);
        }
        rlimits.push_back({{"type", r.type}, {"soft", r.soft}, {"hard", r.hard}});
    }

    json spec = {
        {"ociVersion", "1.0.2"},
        {"process",
         {{"terminal", req.tty},
          {"user", {{"uid", uid}, {"gid", gid}}},
          {"args", args},
          {"env", env},
          {"cwd", cwd},
          // Inheritable and ambient stay empty (CVE-2022-24769); a non-root
          // user gets no effective capabilities.
          {"capabilities", {{"bounding", caps}, {"permitted", uid == 0 ? caps : json::array()},
                            {"effective", uid == 0 ? caps : json::array()}}},
          {"rlimits", rlimits},
          {"noNewPrivileges", true}}},
        {"root", {{"path", rootfs.string()}, {"readonly", req.read_only}}},
        {"hostname", hostname},
        {"mounts",
         {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}, {"options", {"nosuid", "noexec", "nodev"}}},
          {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
          {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"},
           {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
          {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"},
           {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=" + std::to_string(req.shm_size > 0 ? req.shm_size : 64 << 20)}}},
          {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"}, {"options", {"nosuid", "noexec", "nodev"}}},
          {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}, {"options", {"nosuid", "noexec", "nodev", "ro"}}}}},
        {"linux",
         {{"namespaces", {{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}, {{"type", "network"}}}},
          {"cgroupsPath", cgroup_parent + "/" + id},
          {"seccomp", default_seccomp(std::find(capset.begin(), capset.end(), "CAP_SYS_ADMIN") != capset.end())},
          {"resources", resources},
          {"maskedPaths", {"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                           "/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats",
                           "/sys/devices/virtual/powercap", "/sys/firmware"}},
          {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
    };
    auto& namespaces = spec["linux"]["namespaces"];
    for (auto& ns : namespaces)
        if (ns["type"] == "network" && network.kind == SpecNetwork::Kind::path) ns["path"] = network.path;
    if (network.kind == SpecNetwork::Kind::host)
        namespaces.erase(std::remove_if(namespaces.begin(), namespaces.end(), [](const json& ns) { return ns["type"] == "network"; }),
                         namespaces.end());
    for (const auto& t : req.tmpfs) {
        auto colon = t.find(':');
        json options = {"nosuid", "nodev"};
        if (colon != std::string::npos) {
            std::stringstream opts(t.substr(colon + 1));
            std::string o;
            while (std::getline(opts, o, ',')) options.push_back(o);
        }
        spec["mounts"].push_back({{"destination", t.substr(0, colon)}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", options}});
    }
    for (const auto& m : extra) {
        json options = {"rbind", "rprivate", "nosuid", "nodev"};
        if (m.read_only) options.push_back("ro");
        spec["mounts"].push_back({{"destination", m.destination}, {"type", "bind"}, {"source", m.source}, {"options", options}});
    }
    return spec;
}

}  // namespace ctr::services
