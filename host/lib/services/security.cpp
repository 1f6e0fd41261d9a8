#include "services/security.hpp"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include <filesystem>

namespace ctr::services {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

bool valid_access(const std::string& a) {
    return !a.empty() && a.find_first_not_of("rwm") == std::string::npos;
}

// Docker's default device rules: nothing but what every container needs
// (null, zero, full, random, urandom, tty, console, the pts and ptmx, tun),
// and mknod of any node, which opening it then refuses.
json default_device_rules() {
    json rules = json::array({{{"allow", false}, {"access", "rwm"}},
                              {{"allow", true}, {"type", "c"}, {"access", "m"}},
                              {{"allow", true}, {"type", "b"}, {"access", "m"}}});
    const std::pair<int, int> chars[] = {{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}, {10, 200}};
    for (auto [major, minor] : chars) rules.push_back({{"allow", true}, {"type", "c"}, {"major", major}, {"minor", minor}, {"access", "rwm"}});
    rules.push_back({{"allow", true}, {"type", "c"}, {"major", 136}, {"access", "rwm"}});  // every /dev/pts/N
    return rules;
}

Result<json> device_of(const std::string& host, const std::string& container) {
    struct stat st {};
    if (::stat(host.c_str(), &st) != 0) return make_error(CTR_E_INVALID_ARGUMENT, "--device " + host + ": no such device on the host");
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
        return make_error(CTR_E_INVALID_ARGUMENT, "--device " + host + ": not a character or block device");
    return json{{"path", container}, {"type", S_ISCHR(st.st_mode) ? "c" : "b"}, {"major", major(st.st_rdev)}, {"minor", minor(st.st_rdev)},
                {"fileMode", st.st_mode & 07777}, {"uid", 0}, {"gid", 0}};
}

// Every device node of the host's /dev, as --privileged gives them (the
// runtime makes /dev/pts, /dev/shm and /dev/mqueue its own way).
json host_devices() {
    json out = json::array();
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator("/dev", fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        const std::string path = it->path().string();
        if (path == "/dev/pts" || path == "/dev/shm" || path == "/dev/mqueue" || path == "/dev/console") {
            it.disable_recursion_pending();
            continue;
        }
        if (it->is_symlink(ec)) continue;
        if (auto d = device_of(path, path)) out.push_back(*d);
    }
    return out;
}

}  // namespace

Result<DeviceRequest> DeviceRequest::parse(const std::string& text) {
    DeviceRequest d;
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t colon; (colon = text.find(':', start)) != std::string::npos; start = colon + 1) parts.push_back(text.substr(start, colon - start));
    parts.push_back(text.substr(start));
    auto bad = [&](const std::string& why) { return make_error(CTR_E_INVALID_ARGUMENT, "--device \"" + text + "\": " + why); };
    if (parts.size() > 3) return bad("want HOST[:CONTAINER][:PERMISSIONS]");
    d.host = parts[0];
    d.container = d.host;
    if (parts.size() == 2) {
        if (valid_access(parts[1])) d.access = parts[1];
        else d.container = parts[1];
    } else if (parts.size() == 3) {
        d.container = parts[1];
        d.access = parts[2];
        if (!valid_access(d.access)) return bad("permissions are made of r, w and m");
    }
    if (d.host.empty() || d.host.front() != '/') return bad("the host path must be absolute");
    if (d.container.empty() || d.container.front() != '/') return bad("the path in the container must be absolute");
    return d;
}

Result<std::pair<std::string, std::string>> parse_sysctl(const std::string& text, bool host_network) {
    auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) return make_error(CTR_E_INVALID_ARGUMENT, "--sysctl \"" + text + "\": want KEY=VALUE");
    std::string key = text.substr(0, eq);
    for (char& ch : key)
        if (ch == '/') ch = '.';
    auto starts = [&](const char* prefix) { return key.rfind(prefix, 0) == 0; };
    static const char* const ipc[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
    bool allowed = starts("fs.mqueue.") || key == "kernel.domainname";
    for (const char* k : ipc) allowed = allowed || key == k;
    if (starts("net.")) {
        if (host_network)
            return make_error(CTR_E_INVALID_ARGUMENT, "--sysctl " + key + ": with --network host it would change the host's network");
        allowed = true;
    }
    if (!allowed)
        return make_error(CTR_E_INVALID_ARGUMENT, "--sysctl " + key +
                                                      ": not kept per container by the kernel, it would change the host; allowed: "
                                                      "kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, kernel.domainname, net.*");
    return std::pair{key, text.substr(eq + 1)};
}

std::string default_cgroupns() {
    struct statfs fs {};
    return ::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC ? "private" : "host";
}

Status apply_security(json& spec, const SecurityOptions& o) {
    json& linux = spec["linux"];
    json& resources = linux["resources"];
    json devices = json::array();
    if (o.privileged) {
        resources["devices"] = json::array({{{"allow", true}, {"access", "rwm"}}});
        devices = host_devices();
        linux.erase("maskedPaths");
        linux.erase("readonlyPaths");
        for (auto& m : spec["mounts"])
            if (m["destination"] == "/sys") {
                auto& opts = m["options"];
                opts.erase(std::remove(opts.begin(), opts.end(), "ro"), opts.end());
                opts.push_back("rw");
            }
    } else {
        resources["devices"] = default_device_rules();
    }
    for (const auto& d : o.devices) {
        json dev = CTR_TRY(device_of(d.host, d.container));
        resources["devices"].push_back({{"allow", true}, {"type", dev["type"]}, {"major", dev["major"]}, {"minor", dev["minor"]},
                                        {"access", d.access}});
        devices.erase(std::remove_if(devices.begin(), devices.end(), [&](const json& x) { return x["path"] == d.container; }), devices.end());
        devices.push_back(dev);
    }
    if (!devices.empty()) linux["devices"] = devices;
    if (!o.sysctls.empty()) linux["sysctl"] = o.sysctls;
    if ((o.cgroupns.empty() ? default_cgroupns() : o.cgroupns) == "private") linux["namespaces"].push_back({{"type", "cgroup"}});
    return ok();
}

}  // namespace ctr::services
