// A process's cgroups on the three layouts hosts have: v1 (one hierarchy per
// controller), hybrid (v1 plus a cgroup2 at unified/, as on this project's
// build machines) and v2 (one unified hierarchy: every current
// distribution). Every reader of cgroup files in the project goes through
// here, so that stats, top, OOM and cleanup agree on where things are.
//
// Hierarchies are found by name under the root: a v1 line
// "N:cpu,cpuacct:/p" of /proc/PID/cgroup is ROOT/cpu,cpuacct/p (the name
// every distribution mounts it at), "0::/p" is ROOT/p on v2 and
// ROOT/unified/p on a hybrid host. Tests hand in a fake root and /proc.
#pragma once

#include <ctr/sdk/result.hpp>

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ctr::sys {

enum class CgroupVersion { v1, hybrid, v2 };
const char* to_string(CgroupVersion v);  // "v1", "hybrid", "v2"

// What a cgroup uses. A limit of -1 is "none"; a figure the host's layout
// does not keep stays empty.
struct CgroupUsage {
    std::optional<int64_t> memory_usage, memory_limit;
    std::optional<int64_t> pids_current, pids_limit;
    std::optional<int64_t> cpu_ns;
    std::optional<int64_t> io_read_bytes, io_write_bytes;
};

class Cgroups {
public:
    explicit Cgroups(std::filesystem::path root = "/sys/fs/cgroup", std::filesystem::path proc = "/proc");

    CgroupVersion version() const;
    // The controllers the unified hierarchy's root offers ("" on v1).
    std::string v2_controllers() const;

    // One line of /proc/PID/cgroup: the controllers ("" for the unified
    // hierarchy) and the directory it names.
    struct Membership {
        std::string controllers;
        std::filesystem::path dir;
        bool hierarchy_root = false;  // the line's path is "/"
    };
    std::vector<Membership> of(pid_t pid) const;
    // Writes `pid` into the cgroup.procs of each of `where` (a process's
    // memberships, read before): how a process follows another into its
    // cgroups, and goes back. Every one is tried; the first failure is said.
    Status enter(pid_t pid, const std::vector<Membership>& where) const;

    CgroupUsage usage(pid_t pid) const;
    // How many times the kernel's OOM killer struck in PID's memory cgroup.
    int64_t oom_kills(pid_t pid) const;
    // The processes in PID's cgroup and below it (the pids hierarchy on v1).
    std::set<pid_t> members(pid_t pid) const;

    // Every directory `path` ("/parent/id") names, one per hierarchy.
    std::vector<std::filesystem::path> dirs(const std::string& path) const;
    // Removes `path` in every hierarchy, its empty children first. False
    // while a process is still in one of them (it stays, whole).
    bool remove(const std::string& path) const;

private:
    std::filesystem::path unified() const;  // the cgroup2 mount, or empty
    std::filesystem::path root_, proc_;
};

// Reads "key N" from a flat-keyed cgroup file (memory.events, cpu.stat,
// memory.oom_control); empty when absent.
std::optional<int64_t> cgroup_key(const std::filesystem::path& file, const std::string& key);

// A hybrid host whose cgroup2 mount (/sys/fs/cgroup/unified) has
// controllers at all: crun refuses to run beside it ("drop all controllers
// from cgroupv2"), so runtime-linux hides it from crun.
bool hybrid_cgroups();

// systemd's form of an OCI cgroupsPath, "SLICE:PREFIX:NAME", as the
// directory runc and crun make for it under the hierarchy's root: the
// slice's ancestors ("a-b.slice" lives in "a.slice"), the slice, then
// PREFIX-NAME.scope. "" for a path not of that form.
std::string systemd_cgroup_dir(const std::string& cgroups_path);
// A slice's directory under the hierarchy's root ("/a.slice/a-b.slice");
// "" for a name that does not end in ".slice".
std::string systemd_slice_dir(const std::string& slice);

// Whether systemd runs this host's cgroups and can be asked to make some:
// it is PID 1 (/run/systemd/system exists) and the system bus answers,
// which is how runc and crun reach it.
inline constexpr const char* kSystemBus = "/run/dbus/system_bus_socket";
bool systemd_manages_cgroups();

}  // namespace ctr::sys
