#include "oci/oci_static.hpp"
#include "oci/oci_log.hpp"
#include "build_config.hpp"

#include "services/spec.hpp"
#include <ctr/sys/files.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

namespace ctr::oci {

using nlohmann::json;
namespace fs = std::filesystem;

std::string version_text() {
    // Engines read the first line's third word as runc's version and the
    // "spec:" line; ours follows on a line of its own.
    return std::string("runc version 1.1.5\ncommit: container-oci ") + CTR_VERSION + "\nspec: 1.0.2-dev\ncontainer-oci " + CTR_VERSION;
}

int print_features(const std::string& plugin) {
    const json caps = services::all_capabilities();  // the list --cap-add checks names against
    json f = {{"ociVersionMin", "1.0.0"},
              {"ociVersionMax", "1.0.2-dev"},
              {"hooks", json::array()},
              {"mountOptions", {"ro", "rw", "nosuid", "nodev", "noexec", "bind", "rbind", "private", "rprivate", "slave", "rslave", "shared", "rshared", "relatime", "strictatime"}},
              {"linux",
               {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"}},
                {"capabilities", caps},
                {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", true}, {"systemdUser", false}}},
                {"seccomp", {{"enabled", true}}},
                {"apparmor", {{"enabled", false}}},
                {"selinux", {{"enabled", false}}}}},
              {"annotations", {{"org.container.oci.plugin", plugin}}}};
    std::printf("%s\n", f.dump(4).c_str());
    return 0;
}

int write_default_spec(const std::string& bundle) {
    const fs::path file = fs::path(bundle) / "config.json";
    std::error_code ec;
    if (fs::exists(file, ec)) return log_error("File " + file.string() + " exists. Remove it first");
    const json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    json spec = {
        {"ociVersion", "1.0.2-dev"},
        {"process",
         {{"terminal", true},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"args", {"sh"}},
          {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
          {"cwd", "/"},
          {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
          {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
          {"noNewPrivileges", true}}},
        {"root", {{"path", "rootfs"}, {"readonly", true}}},
        {"hostname", "container-oci"},
        {"mounts",
         {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
          {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
          {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"}, {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
          {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"}, {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
          {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"}, {"options", {"nosuid", "noexec", "nodev"}}},
          {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}, {"options", {"nosuid", "noexec", "nodev", "ro"}}},
          {{"destination", "/sys/fs/cgroup"}, {"type", "cgroup"}, {"source", "cgroup"}, {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}}}},
        {"linux",
         {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
          {"namespaces", {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}}},
          {"maskedPaths", {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                           "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
          {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}}};
    if (auto st = sys::write_file_atomic(file, spec.dump(4) + "\n", 0644); !st) return log_error(st.error().message);
    return 0;
}

}  // namespace ctr::oci
