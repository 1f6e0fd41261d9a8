#include "bundle.hpp"

#include <ctr/sys/files.hpp>

#include <unistd.h>

namespace ctr::conformance {

namespace fs = std::filesystem;

Result<fs::path> find_busybox() {
    for (const char* p : {"/bin/busybox", "/usr/bin/busybox"}) {
        std::error_code ec;
        if (fs::exists(p, ec)) return fs::path(p);
    }
    return make_error(CTR_E_NOT_FOUND, "no busybox on this host (apt-get install busybox-static)");
}

Status make_rootfs(const fs::path& rootfs) {
    std::error_code ec;
    if (fs::exists(rootfs / "bin/busybox", ec)) return ok();
    auto busybox = CTR_TRY(find_busybox());
    for (const char* d : {"bin", "proc", "dev", "tmp", "etc", "sys"}) CTR_TRY_STATUS(sys::make_dirs(rootfs / d));
    fs::copy_file(busybox, rootfs / "bin/busybox", fs::copy_options::overwrite_existing, ec);
    if (ec) return make_error(CTR_E_INTERNAL, "copy busybox: " + ec.message());
    for (const char* applet : {"sh", "true", "false", "echo", "cat", "sleep", "ls", "id", "env", "hostname", "ps", "kill"}) {
        fs::create_symlink("busybox", rootfs / "bin" / applet, ec);
        if (ec) return make_error(CTR_E_INTERNAL, std::string("link applet ") + applet + ": " + ec.message());
    }
    CTR_TRY_STATUS(sys::write_file_atomic(rootfs / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"));
    return ok();
}

nlohmann::json default_spec(const std::vector<std::string>& args) {
    using nlohmann::json;
    json caps = json::array({"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID",
                             "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL"});
    return {
        {"ociVersion", "1.0.2"},
        {"process",
         {{"terminal", false},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"args", args},
          {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
          {"cwd", "/"},
          {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
          {"noNewPrivileges", true}}},
        {"root", {{"path", "rootfs"}, {"readonly", false}}},
        {"hostname", "conformance"},
        {"mounts",
         {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
          {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"},
           {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
          {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"},
           {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
          {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"},
           {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
          {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}, {"options", {"nosuid", "noexec", "nodev", "ro"}}}}},
        {"linux",
         {{"namespaces", {{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}, {{"type", "network"}}}},
          {"maskedPaths", {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"}},
          {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
    };
}

Result<fs::path> make_bundle(const fs::path& work, const std::string& name, const std::vector<std::string>& args) {
    fs::path rootfs = work / "rootfs";
    CTR_TRY_STATUS(make_rootfs(rootfs));
    fs::path dir = work / name;
    CTR_TRY_STATUS(sys::make_dirs(dir));
    auto spec = default_spec(args);
    spec["root"]["path"] = rootfs.string();
    CTR_TRY_STATUS(sys::write_file_atomic(dir / "config.json", spec.dump(2)));
    return dir;
}

}  // namespace ctr::conformance
