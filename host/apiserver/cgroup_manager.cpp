#include "apiserver/cgroup_manager.hpp"

#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/process.hpp>
#include <ctr/sys/spawn.hpp>

#include <filesystem>
#include <functional>

namespace ctr::apiserver {

namespace {

// One number per root, so that parallel roots never collide.
std::string root_number(const Paths& paths) {
    return std::to_string(std::hash<std::string>()(paths.root().string()) % 1000000007ULL);
}

std::string slice_of(const Paths& paths) { return "container-" + root_number(paths) + ".slice"; }

}  // namespace

const char* to_string(CgroupManager manager) { return manager == CgroupManager::systemd ? "systemd" : "cgroupfs"; }

Result<CgroupManager> choose_cgroup_manager(const std::string& wanted, bool rootless) {
    if (wanted != "auto" && wanted != "systemd" && wanted != "cgroupfs")
        return make_error(CTR_E_INVALID_ARGUMENT, "cgroup manager: must be auto, systemd or cgroupfs, not \"" + wanted + "\"");
    if (rootless) {
        if (wanted == "systemd")
            return make_error(CTR_E_UNIMPLEMENTED, "cgroup manager systemd: a rootless daemon makes cgroups itself in its delegated subtree "
                                                   "(cgroupfs); systemd's user instance is not asked (docs/rootless.md)");
        return CgroupManager::cgroupfs;
    }
    const bool systemd = sys::systemd_manages_cgroups();
    if (wanted == "systemd" && !systemd)
        return make_error(CTR_E_FAILED_PRECONDITION, std::string("cgroup manager systemd: systemd is not PID 1 here, or its bus (") +
                                                         sys::kSystemBus + ") does not answer");
    if (wanted == "auto")
        return systemd && sys::Cgroups().version() == sys::CgroupVersion::v2 ? CgroupManager::systemd : CgroupManager::cgroupfs;
    return wanted == "systemd" ? CgroupManager::systemd : CgroupManager::cgroupfs;
}

std::string cgroups_path(const Paths& paths, CgroupManager manager, const std::string& base, const std::string& id) {
    if (manager == CgroupManager::systemd) return slice_of(paths) + ":container:" + id;
    return base + "/container-" + root_number(paths) + "/" + id;
}

std::string cgroup_parent_dir(const Paths& paths, CgroupManager manager, const std::string& base) {
    if (manager == CgroupManager::systemd) return sys::systemd_slice_dir(slice_of(paths));
    return base + "/container-" + root_number(paths);
}

bool stop_systemd_slice(const Paths& paths) {
    const std::string systemctl = sys::find_program("systemctl");
    if (systemctl.empty()) return false;
    sys::RunOptions o;
    o.timeout_ms = 30000;
    auto r = sys::run_capture({systemctl, "stop", slice_of(paths)}, o);
    return r && r->status.success();
}

}  // namespace ctr::apiserver
