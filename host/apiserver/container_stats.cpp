// stats and top of a running container: the runtime's own numbers (through
// a shim in --stats mode), its namespace's network counters, its cgroups.
#include "apiserver/containers.hpp"
#include "apiserver/container_parts.hpp"
#include <ctr/pluginhost/host_env.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/netns.hpp>
#include <ctr/sys/process.hpp>

#include <algorithm>
#include <set>
#include <sstream>

namespace ctr::apiserver {

namespace fs = std::filesystem;
using nlohmann::json;
using detail::alive;

namespace {

std::optional<int64_t> read_number(const fs::path& file) {
    auto text = sys::read_file(file);
    if (!text || text->empty()) return std::nullopt;
    if (text->rfind("max", 0) == 0) return -1;
    try {
        return std::stoll(*text);
    } catch (...) {
        return std::nullopt;
    }
}

}  // namespace

Result<json> Containers::stats(const std::string& key) {
    auto c = CTR_TRY(get(key));
    if (c.state != store::ContainerState::running || !alive(c.pid)) return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is not running");
    std::string pid = std::to_string(*c.pid);
    json out = {{"id", c.id}, {"name", c.name}};
    // Each controller's path comes from /proc/PID/cgroup: runtimes place them differently.
    auto cgroups = CTR_TRY(sys::read_file("/proc/" + pid + "/cgroup"));
    std::istringstream lines(cgroups);
    std::string line;
    while (std::getline(lines, line)) {
        auto a = line.find(':'), b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos) continue;
        std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
        auto has = [&](const char* name) { return ("," + controllers + ",").find(std::string(",") + name + ",") != std::string::npos; };
        if (has("memory")) {
            fs::path dir = fs::path("/sys/fs/cgroup/memory") / path.substr(1);
            out["memory"]["usage"] = read_number(dir / "memory.usage_in_bytes").value_or(0);
            int64_t limit = read_number(dir / "memory.limit_in_bytes").value_or(-1);
            out["memory"]["limit"] = limit >= (int64_t{1} << 62) ? -1 : limit;  // v1 says "no limit" with a huge number
        }
        if (has("pids")) {
            fs::path dir = fs::path("/sys/fs/cgroup/pids") / path.substr(1);
            out["pids"]["current"] = read_number(dir / "pids.current").value_or(0);
            out["pids"]["limit"] = read_number(dir / "pids.max").value_or(-1);
        }
        if (has("cpuacct")) {
            std::string mount = fs::exists("/sys/fs/cgroup/cpuacct") ? "/sys/fs/cgroup/cpuacct" : "/sys/fs/cgroup/cpu,cpuacct";
            out["cpu_ns"] = read_number(fs::path(mount) / path.substr(1) / "cpuacct.usage").value_or(0);
        }
        if (has("blkio")) {
            auto io = sys::read_file(fs::path("/sys/fs/cgroup/blkio") / path.substr(1) / "blkio.throttle.io_service_bytes");
            int64_t rd = 0, wr = 0;
            std::istringstream il(io ? *io : "");
            std::string dev, op;
            int64_t n = 0;
            while (il >> dev >> op >> n) {
                if (op == "Read") rd += n;
                if (op == "Write") wr += n;
            }
            out["blkio"] = {{"read_bytes", rd}, {"write_bytes", wr}};
        }
    }
    // The network namespace's interfaces, as the container sees them: its
    // own pinned namespace (a VM's proxy process lives in the host's), else
    // its process's (--network host).
    auto dev = fs::exists(networks_.netns_of(c.id)) ? sys::read_in_netns(networks_.netns_of(c.id), "/proc/thread-self/net/dev")
                                                     : sys::read_file("/proc/" + pid + "/net/dev");
    int64_t rx = 0, tx = 0;
    std::istringstream dl(dev ? *dev : "");
    while (std::getline(dl, line)) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::istringstream f(line.substr(colon + 1));
        std::vector<int64_t> v;
        int64_t x;
        while (f >> x) v.push_back(x);
        if (v.size() >= 9) {
            rx += v[0];
            tx += v[8];
        }
    }
    out["net"] = {{"rx_bytes", rx}, {"tx_bytes", tx}};
    // The runtime's own numbers win where it has them: a VM's memory is its
    // size and what QEMU holds, not the cgroup of a proxy on the host.
    if (auto own = runtime_stats(c)) {
        if (own->contains("memory") && (*own)["memory"].is_object()) out["memory"] = (*own)["memory"];
        if (own->contains("cpu") && (*own)["cpu"].is_object() && (*own)["cpu"].contains("usage_ns")) out["cpu_ns"] = (*own)["cpu"]["usage_ns"];
    }
    return out;
}

std::optional<json> Containers::runtime_stats(const store::ContainerRecord& c) {
    std::vector<std::string> args = shim_argv(c);
    args.resize(args.size() - 2);  // not --state-dir: no detached container of its own
    args.push_back("--stats");
    sys::RunOptions o;
    o.timeout_ms = 5000;
    auto r = sys::run_capture(args, o);
    if (!r || !r->status.success()) return std::nullopt;
    auto j = json::parse(r->out, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    return j;
}

Result<json> Containers::top(const std::string& key) {
    auto c = CTR_TRY(get(key));
    if (c.state != store::ContainerState::running || !alive(c.pid)) return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is not running");
    // Every process in the container's PID namespace, seen from the host.
    // A container without a PID namespace of its own (a VM runtime's, whose
    // processes live in the guest) shows the processes of its cgroup: never
    // the host's.
    std::string ns;
    std::error_code ec;
    ns = fs::read_symlink("/proc/" + std::to_string(*c.pid) + "/ns/pid", ec).string();
    const bool own_ns = ns != fs::read_symlink("/proc/self/ns/pid", ec).string();
    std::set<std::string> members;
    if (!own_ns) {
        auto cgroups = CTR_TRY(sys::read_file("/proc/" + std::to_string(*c.pid) + "/cgroup"));
        std::istringstream lines(cgroups);
        std::string line;
        while (std::getline(lines, line)) {
            auto a = line.find(':'), b = line.find(':', a + 1);
            if (a == std::string::npos || b == std::string::npos) continue;
            std::string controllers = "," + line.substr(a + 1, b - a - 1) + ",", path = line.substr(b + 1);
            fs::path procs = controllers == ",," ? fs::path("/sys/fs/cgroup") / path.substr(1) / "cgroup.procs"
                             : controllers.find(",pids,") != std::string::npos ? fs::path("/sys/fs/cgroup/pids") / path.substr(1) / "cgroup.procs"
                                                                               : fs::path();
            if (procs.empty()) continue;
            auto text = sys::read_file(procs);
            std::istringstream pids(text ? *text : std::string());
            for (std::string pid; std::getline(pids, pid);) members.insert(pid);
        }
    }
    json out = json::array();
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::error_code ec2;
        if (own_ns ? fs::read_symlink(e.path() / "ns/pid", ec2).string() != ns || ec2 : !members.count(name)) continue;
        auto stat = sys::read_file(e.path() / "stat");
        auto cmd = sys::read_file(e.path() / "cmdline");
        if (!stat || !cmd) continue;
        auto close = stat->rfind(')');
        int64_t ppid = 0;
        if (close != std::string::npos) std::sscanf(stat->c_str() + close + 2, "%*c %lld", reinterpret_cast<long long*>(&ppid));
        std::replace(cmd->begin(), cmd->end(), '\0', ' ');
        while (!cmd->empty() && cmd->back() == ' ') cmd->pop_back();
        // A zombie, or a process between exec and its first page, has no
        // command line: name it by its comm in brackets, as ps does.
        if (cmd->empty()) {
            auto open = stat->find('(');
            if (open == std::string::npos || close == std::string::npos || close < open) continue;
            *cmd = "[" + stat->substr(open + 1, close - open - 1) + "]";
        }
        out.push_back({{"pid", std::stoll(name)}, {"ppid", ppid}, {"command", *cmd}});
    }
    return out;
}

}  // namespace ctr::apiserver
