#include "services/spec.hpp"

#include "services/mount_targets.hpp"
#include "services/seccomp.hpp"

#include <ctr/sys/files.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <regex>
#include <sstream>

namespace ctr::services {

using nlohmann::json;

namespace {

// Every capability of Linux 6.x, for --cap-add ALL and for checking names.
const char* const kAllCapsList[] = {
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


std::string env_key(const std::string& kv) { return kv.substr(0, kv.find('=')); }

}  // namespace

const std::vector<std::string>& all_capabilities() {
    static const std::vector<std::string> all(std::begin(kAllCapsList), std::end(kAllCapsList));
    return all;
}

// The capabilities the daemon may hand on: what --privileged and
// --cap-add ALL grant. Not every one Linux knows (root may run without
// CAP_SYS_RESOURCE, an older kernel lacks the newest), or capset fails.
std::vector<std::string> bounded_capabilities() {
    std::vector<std::string> out;
    for (size_t i = 0; i < std::size(kAllCapsList); ++i)
        if (::prctl(PR_CAPBSET_READ, static_cast<unsigned long>(i), 0, 0, 0) == 1) out.push_back(kAllCapsList[i]);
    return out;
}

std::vector<std::string> merge_env(std::vector<std::string> base, const std::vector<std::string>& overrides) {
    for (const auto& e : overrides) {
        std::string key = env_key(e);
        base.erase(std::remove_if(base.begin(), base.end(), [&](const std::string& x) { return env_key(x) == key; }), base.end());
        if (e.find('=') != std::string::npos) base.push_back(e);
    }
    return base;
}

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

std::string container_hostname(const RunRequest& req, const std::string& id) {
    if (req.tuning.uts_mode == "host") {
        char name[256] = {};
        if (::gethostname(name, sizeof name - 1) == 0) return name;
    }
    return req.hostname.empty() ? id.substr(0, 12) : req.hostname;
}

json RunRequest::to_json() const {
    json j = {{"image", image}, {"name", name}, {"cmd", cmd}, {"env", env}, {"workdir", workdir}, {"user", user},
              {"hostname", hostname}, {"runtime", runtime}, {"labels", labels}, {"memory", memory}, {"cpus", cpus}, {"rm", remove}};
    if (entrypoint) j["entrypoint"] = *entrypoint;
    json vols = json::array();
    for (const auto& v : volumes) vols.push_back(v.str());
    j["volumes"] = vols;
    j["volumes_from"] = volumes_from;
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
    j["security_opt"] = security_opt;
    j["privileged"] = security.privileged;
    json devices = json::array();
    for (const auto& d : security.devices) devices.push_back(d.host + ":" + d.container + ":" + d.access);
    j["devices"] = devices;
    j["sysctls"] = security.sysctls;
    if (!security.cgroupns.empty()) j["cgroupns"] = security.cgroupns;
    network.to_json(j);
    tuning.to_json(j);
    logs.to_json(j);
    return j;
}

namespace {

// Capabilities: drop ALL empties the default set; add ALL grants every one;
// then single additions, then single drops (Apple's and Docker's order).
std::vector<std::string> capability_set(const RunRequest& req) {
    std::vector<std::string> capset(std::begin(kCaps), std::end(kCaps));
    auto has = [](const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); };
    if (has(req.cap_drop, "ALL")) capset.clear();
    if (has(req.cap_add, "ALL")) capset = bounded_capabilities();
    for (const auto& c : req.cap_add)
        if (c != "ALL" && !has(capset, c)) capset.push_back(c);
    for (const auto& c : req.cap_drop) capset.erase(std::remove(capset.begin(), capset.end(), c), capset.end());
    return capset;
}

// rlimits: never above what we may set ourselves (root may lack
// CAP_SYS_RESOURCE): a request above our hard limit is clamped to it.
Result<json> rlimits_of(const RunRequest& req) {
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
    return rlimits;
}

// What every container gets: /proc, /dev (with pts, shm of `shm_size` bytes,
// mqueue) and a read-only /sys.
json default_mounts(int64_t shm_size) {
    std::string shm = "size=" + std::to_string(shm_size > 0 ? shm_size : 64 << 20);
    return json::array({
        {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}, {"options", {"nosuid", "noexec", "nodev"}}},
        {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"},
         {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},  // tty group, as everywhere
        {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"}, {"options", {"nosuid", "noexec", "nodev", "mode=1777", shm}}},
        {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"}, {"options", {"nosuid", "noexec", "nodev"}}},
        {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}, {"options", {"nosuid", "noexec", "nodev", "ro"}}},
    });
}

// --tmpfs DEST[:OPTIONS] and the binds (volumes, /etc/hosts, ...), after the
// defaults; none may land on those through the image's symlinks.
Status add_mounts(json& mounts, const std::vector<std::string>& tmpfs, const std::vector<ResolvedMount>& extra,
                  const std::filesystem::path& rootfs) {
    const size_t defaults = mounts.size();
    for (const auto& t : tmpfs) {
        auto colon = t.find(':');
        json options = {"nosuid", "nodev"};
        if (colon != std::string::npos) {
            std::stringstream opts(t.substr(colon + 1));
            std::string o;
            while (std::getline(opts, o, ',')) options.push_back(o);
        }
        mounts.push_back({{"destination", t.substr(0, colon)}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", options}});
    }
    for (const auto& m : extra) {
        json options = {"rbind", "rprivate", "nosuid", "nodev"};
        if (m.read_only) options.push_back("ro");
        mounts.push_back({{"destination", m.destination}, {"type", "bind"}, {"source", m.source}, {"options", options}});
    }
    return check_mount_targets(rootfs, mounts, defaults);
}

}  // namespace

std::string command_line(const json& spec) {
    std::string command;
    for (const auto& a : spec.value("process", json::object()).value("args", json::array()))
        if (a.is_string()) command += (command.empty() ? "" : " ") + a.get<std::string>();
    return command;
}

Result<json> make_spec(const RunRequest& req, const json& image_config, const std::filesystem::path& rootfs,
                       const std::string& id, const std::string& cgroups_path, const std::vector<ResolvedMount>& extra,
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
    std::string hostname = container_hostname(req, id);
    env.push_back("HOSTNAME=" + hostname);
    if (req.tty && std::none_of(env.begin(), env.end(), [](const std::string& x) { return env_key(x) == "TERM"; }))
        env.push_back("TERM=xterm");

    std::string cwd = !req.workdir.empty() ? req.workdir : cfg.value("WorkingDir", std::string());
    if (cwd.empty()) cwd = "/";
    std::string user = !req.user.empty() ? req.user : cfg.value("User", std::string());
    auto [uid, gid] = CTR_TRY(resolve_user(user, rootfs));

    std::vector<std::string> capset = req.security.privileged ? bounded_capabilities() : capability_set(req);
    json caps = capset;
    json resources = json::object();
    if (req.memory > 0) resources["memory"] = {{"limit", req.memory}};
    if (req.cpus > 0) resources["cpu"] = {{"quota", static_cast<int64_t>(req.cpus * 100000)}, {"period", 100000}};
    if (req.pids_limit != 0) resources["pids"] = {{"limit", req.pids_limit}};

    json rlimits = CTR_TRY(rlimits_of(req));

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
          {"noNewPrivileges", req.no_new_privileges.value_or(!req.security.privileged)}}},
        {"root", {{"path", rootfs.string()}, {"readonly", req.read_only}}},
        {"hostname", hostname},
        {"mounts", default_mounts(req.shm_size)},
        {"linux",
         {{"namespaces", {{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}, {{"type", "network"}}}},
          {"cgroupsPath", cgroups_path},
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
    // Docker's default profile, or the container's own, for its capabilities.
    if (req.seccomp != "unconfined" && !req.security.privileged)
        spec["linux"]["seccomp"] = oci_seccomp(req.seccomp.is_object() ? req.seccomp : default_seccomp_profile(), capset);
    if (req.unmask_system_paths) {
        spec["linux"].erase("maskedPaths");
        spec["linux"].erase("readonlyPaths");
    }
    CTR_TRY_STATUS(apply_security(spec, req.security));
    CTR_TRY_STATUS(apply_tuning(spec, req.tuning, rootfs));
    CTR_TRY_STATUS(add_mounts(spec["mounts"], req.tmpfs, extra, rootfs));
    return spec;
}

}  // namespace ctr::services
