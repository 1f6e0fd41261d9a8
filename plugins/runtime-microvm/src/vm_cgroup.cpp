#include "vm_cgroup.hpp"

#include <ctr/sys/cgroup.hpp>

#include <ctr/sys/unique_fd.hpp>

#include <fcntl.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <thread>
#include <unistd.h>

namespace microvm {

namespace fs = std::filesystem;

namespace {

bool is_cgroup(const fs::path& p, long magic) {
    struct statfs s {};
    return ::statfs(p.c_str(), &s) == 0 && static_cast<long>(s.f_type) == magic;
}

// The directories of `path` in each hierarchy stats reads, under `root`
// (the cgroup file systems' mount point).
std::vector<fs::path> dirs_of(const std::string& cgroups_path, const fs::path& root) {
    std::vector<fs::path> dirs;
    // systemd's form (a daemon whose runtimes ask systemd for scopes): the
    // VM's processes go where runc's would, made as a directory (QEMU is
    // not a process systemd started for us).
    const std::string systemd = ctr::sys::systemd_cgroup_dir(cgroups_path);
    const std::string& path = systemd.empty() ? cgroups_path : systemd;
    if (path.empty()) return dirs;
    std::vector<fs::path> bases;
    if (is_cgroup(root, CGROUP2_SUPER_MAGIC)) bases.push_back(root);
    else
        for (const char* c : {"memory", "pids", "cpu", "cpuacct", "blkio"})
            if (!fs::is_symlink(root / c) && is_cgroup(root / c, CGROUP_SUPER_MAGIC)) bases.push_back(root / c);
    for (const auto& base : bases) dirs.push_back(base / fs::path(path).relative_path());
    return dirs;
}

}  // namespace

VmCgroup VmCgroup::existing(const std::string& path, const fs::path& root) {
    VmCgroup cg;
    std::error_code ec;
    for (const auto& dir : dirs_of(path, root))
        if (fs::is_directory(dir, ec)) cg.dirs_.push_back(dir);
    return cg;
}

ctr::Result<VmCgroup> VmCgroup::create(const std::string& path, const fs::path& root) {
    VmCgroup cg;
    for (const auto& dir : dirs_of(path, root)) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) return ctr::make_error(CTR_E_INTERNAL, "cgroup " + dir.string() + ": " + ec.message());
        cg.dirs_.push_back(dir);
    }
    return cg;
}

VmCgroup& VmCgroup::operator=(VmCgroup&& o) noexcept {
    if (this != &o) {
        remove();
        dirs_ = std::move(o.dirs_);
        o.dirs_.clear();
    }
    return *this;
}

VmCgroup::~VmCgroup() { remove(); }

ctr::Status VmCgroup::add(pid_t pid) const {
    const std::string text = std::to_string(pid);
    for (const auto& dir : dirs_) {
        ctr::sys::UniqueFd fd(::open((dir / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd.valid() || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
            return ctr::make_error(CTR_E_INTERNAL, "cgroup " + dir.string() + ": " + std::strerror(errno));
    }
    return ctr::ok();
}

void VmCgroup::remove() {
    // A process that was just killed leaves its cgroup a moment later.
    for (const auto& dir : dirs_)
        for (int i = 0; i < 100 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    dirs_.clear();
}

}  // namespace microvm
