#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <sstream>

#include <fstream>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

namespace ctr::sys {

namespace fs = std::filesystem;

namespace {

// The first number in a cgroup file; "max" is -1 (no limit).
std::optional<int64_t> number(const fs::path& file) {
    auto text = read_file(file);
    if (!text || text->empty()) return std::nullopt;
    if (text->rfind("max", 0) == 0) return -1;
    try {
        return std::stoll(*text);
    } catch (...) {
        return std::nullopt;
    }
}

bool has_controller(const std::string& list, const char* name) {
    return ("," + list + ",").find(std::string(",") + name + ",") != std::string::npos;
}

// Sums the "Read"/"Write" rows of v1's blkio.throttle.io_service_bytes.
void v1_io(const fs::path& file, CgroupUsage& u) {
    auto text = read_file(file);
    if (!text) return;
    std::istringstream in(*text);
    std::string dev, op;
    int64_t n = 0, rd = 0, wr = 0;
    while (in >> dev >> op >> n) {
        if (op == "Read") rd += n;
        if (op == "Write") wr += n;
    }
    u.io_read_bytes = rd;
    u.io_write_bytes = wr;
}

// Sums rbytes= and wbytes= over v2's io.stat, one line per device.
void v2_io(const fs::path& file, CgroupUsage& u) {
    auto text = read_file(file);
    if (!text) return;
    std::istringstream in(*text);
    std::string word;
    int64_t rd = 0, wr = 0;
    while (in >> word) {
        auto eq = word.find('=');
        if (eq == std::string::npos) continue;
        int64_t v = std::atoll(word.c_str() + eq + 1);
        if (word.compare(0, eq, "rbytes") == 0) rd += v;
        if (word.compare(0, eq, "wbytes") == 0) wr += v;
    }
    u.io_read_bytes = rd;
    u.io_write_bytes = wr;
}

void v1_usage(const std::string& controllers, const fs::path& dir, CgroupUsage& u) {
    if (has_controller(controllers, "memory")) {
        u.memory_usage = number(dir / "memory.usage_in_bytes");
        auto limit = number(dir / "memory.limit_in_bytes");
        // v1 says "no limit" with a number near 2^63, rounded to pages.
        if (limit) u.memory_limit = *limit >= (int64_t{1} << 62) ? -1 : *limit;
    }
    if (has_controller(controllers, "pids")) {
        u.pids_current = number(dir / "pids.current");
        u.pids_limit = number(dir / "pids.max");
    }
    if (has_controller(controllers, "cpuacct")) u.cpu_ns = number(dir / "cpuacct.usage");
    if (has_controller(controllers, "blkio")) v1_io(dir / "blkio.throttle.io_service_bytes", u);
}

// The unified hierarchy: each figure only where its controller is enabled
// (on a hybrid host, v1 has the controllers and these files are absent).
void v2_usage(const fs::path& dir, CgroupUsage& u) {
    if (fs::exists(dir / "memory.current")) {
        u.memory_usage = number(dir / "memory.current");
        u.memory_limit = number(dir / "memory.max");
    }
    if (fs::exists(dir / "pids.current")) {
        u.pids_current = number(dir / "pids.current");
        u.pids_limit = number(dir / "pids.max");
    }
    // cpu.stat is in every v2 cgroup, controller or not.
    if (!u.cpu_ns)
        if (auto usec = cgroup_key(dir / "cpu.stat", "usage_usec")) u.cpu_ns = *usec * 1000;
    if (fs::exists(dir / "io.stat")) v2_io(dir / "io.stat", u);
}

void collect_procs(const fs::path& dir, std::set<pid_t>& out) {
    if (auto text = read_file(dir / "cgroup.procs")) {
        std::istringstream in(*text);
        for (pid_t p; in >> p;) out.insert(p);
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_directory(ec) && !e.is_symlink(ec)) collect_procs(e.path(), out);
}

// rmdir, leaves first. False when a cgroup below (or at) `dir` holds a process.
bool remove_tree(const fs::path& dir) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_directory(ec) && !e.is_symlink(ec) && !remove_tree(e.path())) return false;
    return ::rmdir(dir.c_str()) == 0 || errno == ENOENT;
}

}  // namespace

const char* to_string(CgroupVersion v) {
    switch (v) {
        case CgroupVersion::v1: return "v1";
        case CgroupVersion::hybrid: return "hybrid";
        case CgroupVersion::v2: return "v2";
    }
    return "v1";
}

std::optional<int64_t> cgroup_key(const fs::path& file, const std::string& key) {
    auto text = read_file(file);
    if (!text) return std::nullopt;
    std::istringstream in(*text);
    std::string k;
    int64_t v = 0;
    while (in >> k >> v)
        if (k == key) return v;
    return std::nullopt;
}

Cgroups::Cgroups(fs::path root, fs::path proc) : root_(std::move(root)), proc_(std::move(proc)) {}

CgroupVersion Cgroups::version() const {
    if (fs::exists(root_ / "cgroup.controllers")) return CgroupVersion::v2;
    if (fs::exists(root_ / "unified" / "cgroup.controllers")) return CgroupVersion::hybrid;
    return CgroupVersion::v1;
}

fs::path Cgroups::unified() const {
    switch (version()) {
        case CgroupVersion::v2: return root_;
        case CgroupVersion::hybrid: return root_ / "unified";
        case CgroupVersion::v1: break;
    }
    return {};
}

std::string Cgroups::v2_controllers() const {
    auto u = unified();
    if (u.empty()) return "";
    auto text = read_file(u / "cgroup.controllers");
    std::string s = text ? *text : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::vector<Cgroups::Membership> Cgroups::of(pid_t pid) const {
    std::vector<Membership> out;
    auto text = read_file(proc_ / std::to_string(pid) / "cgroup");
    if (!text) return out;
    const fs::path u = unified();
    std::istringstream lines(*text);
    std::string line;
    while (std::getline(lines, line)) {
        auto a = line.find(':'), b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
        std::string rel = path.empty() ? "" : path.substr(1);
        if (controllers.empty()) {
            if (!u.empty()) out.push_back({"", rel.empty() ? u : u / rel, rel.empty()});
            continue;
        }
        std::string mount = controllers.rfind("name=", 0) == 0 ? controllers.substr(5) : controllers;
        out.push_back({controllers, rel.empty() ? root_ / mount : root_ / mount / rel, rel.empty()});
    }
    return out;
}

Status Cgroups::enter(pid_t pid, const std::vector<Membership>& where) const {
    Status first = ok();
    for (const auto& m : where) {
        UniqueFd fd(::open((m.dir / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
        const std::string text = std::to_string(pid);
        if ((!fd.valid() || ::write(fd.get(), text.data(), text.size()) < 0) && first)
            first = make_error(CTR_E_INTERNAL, "enter cgroup " + m.dir.string() + ": " + std::strerror(errno));
    }
    return first;
}

CgroupUsage Cgroups::usage(pid_t pid) const {
    CgroupUsage u;
    auto all = of(pid);
    for (const auto& m : all)
        if (!m.controllers.empty()) v1_usage(m.controllers, m.dir, u);
    for (const auto& m : all)
        if (m.controllers.empty()) v2_usage(m.dir, u);
    return u;
}

int64_t Cgroups::oom_kills(pid_t pid) const {
    int64_t n = 0;
    for (const auto& m : of(pid)) {
        std::optional<int64_t> v;
        if (m.controllers.empty()) v = cgroup_key(m.dir / "memory.events", "oom_kill");
        else if (has_controller(m.controllers, "memory")) v = cgroup_key(m.dir / "memory.oom_control", "oom_kill");
        if (v && *v > n) n = *v;
    }
    return n;
}

std::set<pid_t> Cgroups::members(pid_t pid) const {
    std::set<pid_t> out;
    const bool v2 = version() == CgroupVersion::v2;
    for (const auto& m : of(pid)) {
        // v2: the one hierarchy. v1 and hybrid: pids, which runtimes always
        // join, else the unified one, which they join where it exists.
        if (v2 ? !m.controllers.empty() : !has_controller(m.controllers, "pids")) continue;
        collect_procs(m.dir, out);
        return out;
    }
    for (const auto& m : of(pid))
        if (m.controllers.empty()) collect_procs(m.dir, out);
    return out;
}

std::vector<fs::path> Cgroups::dirs(const std::string& path) const {
    const std::string rel = path.rfind('/', 0) == 0 ? path.substr(1) : path;
    if (version() == CgroupVersion::v2) return {root_ / rel};
    std::vector<fs::path> out;
    std::error_code ec;
    // Each hierarchy's mount (unified/ too); not the cpu -> cpu,cpuacct links.
    for (const auto& h : fs::directory_iterator(root_, ec))
        if (h.is_directory(ec) && !h.is_symlink(ec)) out.push_back(h.path() / rel);
    return out;
}

bool Cgroups::remove(const std::string& path) const {
    bool all = true;
    for (const auto& dir : dirs(path)) {
        std::error_code ec;
        if (fs::exists(dir, ec) && !remove_tree(dir)) all = false;
    }
    return all;
}

std::string systemd_slice_dir(const std::string& slice) {
    const std::string suffix = ".slice";
    if (slice.size() <= suffix.size() || slice.compare(slice.size() - suffix.size(), suffix.size(), suffix) != 0) return "";
    // systemd's rule: each dash opens a level, "a-b.slice" inside "a.slice".
    const std::string stem = slice.substr(0, slice.size() - suffix.size());
    std::string dir;
    for (size_t dash = stem.find('-'); dash != std::string::npos; dash = stem.find('-', dash + 1)) dir += "/" + stem.substr(0, dash) + suffix;
    return dir + "/" + slice;
}

std::string systemd_cgroup_dir(const std::string& cgroups_path) {
    // "SLICE:PREFIX:NAME", three fields, the slice ending ".slice".
    const auto first = cgroups_path.find(':');
    const auto second = first == std::string::npos ? std::string::npos : cgroups_path.find(':', first + 1);
    if (second == std::string::npos || cgroups_path.find(':', second + 1) != std::string::npos) return "";
    const std::string slice = cgroups_path.substr(0, first), prefix = cgroups_path.substr(first + 1, second - first - 1),
                      name = cgroups_path.substr(second + 1);
    const std::string dir = systemd_slice_dir(slice);
    if (name.empty() || dir.empty()) return "";
    return dir + "/" + (prefix.empty() ? name : prefix + "-" + name) + ".scope";
}

bool systemd_manages_cgroups() {
    struct stat st{};
    if (::stat("/run/systemd/system", &st) != 0 || !S_ISDIR(st.st_mode)) return false;  // sd_booted()'s test
    UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, kSystemBus, sizeof addr.sun_path - 1);
    return s.valid() && ::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

bool hybrid_cgroups() {
    struct statfs root {}, unified {};
    if (::statfs("/sys/fs/cgroup", &root) != 0 || root.f_type != TMPFS_MAGIC) return false;
    if (::statfs("/sys/fs/cgroup/unified", &unified) != 0 || unified.f_type != CGROUP2_SUPER_MAGIC) return false;
    std::ifstream controllers("/sys/fs/cgroup/unified/cgroup.controllers");
    std::string any;
    return static_cast<bool>(controllers >> any);
}

}  // namespace ctr::sys
