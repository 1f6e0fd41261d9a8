// stats and top of a running container: the runtime's own numbers (through
// a shim in --stats mode), its namespace's network counters, its cgroups.
#include "apiserver/containers.hpp"
#include "apiserver/container_parts.hpp"
#include <ctr/pluginhost/host_env.hpp>
#include <ctr/sys/cgroup.hpp>
#include <ctr/sys/files.hpp>
#include <ctr/sys/netns.hpp>
#include <ctr/sys/process.hpp>

namespace ctr::apiserver {

namespace fs = std::filesystem;
using nlohmann::json;
using detail::alive;

Result<json> Containers::stats(const std::string& key) {
    auto c = CTR_TRY(get(key));
    if (c.state != store::ContainerState::running || !alive(c.pid)) return make_error(CTR_E_FAILED_PRECONDITION, "container " + c.name + " is not running");
    std::string pid = std::to_string(*c.pid);
    json out = {{"id", c.id}, {"name", c.name}};
    // The cgroups /proc/PID/cgroup names (runtimes place them differently),
    // on whichever layout the host has.
    const auto u = sys::Cgroups().usage(static_cast<pid_t>(*c.pid));
    if (u.memory_usage || u.memory_limit) out["memory"] = {{"usage", u.memory_usage.value_or(0)}, {"limit", u.memory_limit.value_or(-1)}};
    if (u.pids_current || u.pids_limit) out["pids"] = {{"current", u.pids_current.value_or(0)}, {"limit", u.pids_limit.value_or(-1)}};
    if (u.cpu_ns) out["cpu_ns"] = *u.cpu_ns;
    if (u.io_read_bytes || u.io_write_bytes) out["blkio"] = {{"read_bytes", u.io_read_bytes.value_or(0)}, {"write_bytes", u.io_write_bytes.value_or(0)}};
    // The network namespace's interfaces, as the container sees them: its
    // own pinned namespace (a VM's proxy process lives in the host's), else
    // its process's (--network host).
    auto dev = fs::exists(networks_.netns_of(c.id)) ? sys::read_in_netns(networks_.netns_of(c.id), "/proc/thread-self/net/dev")
                                                     : sys::read_file("/proc/" + pid + "/net/dev");
    const auto net = sys::net_dev_totals(dev ? *dev : "");
    out["net"] = {{"rx_bytes", net.rx_bytes}, {"tx_bytes", net.tx_bytes}};
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
    // The runtime's own list (ABI 1.4): a VM's runtime shows its guest's
    // processes. One without it gets the host's view of the container.
    auto listed = runtime_call(c, "processes");
    if (listed && listed->contains("processes") && (*listed)["processes"].is_array()) return (*listed)["processes"];
    if (!listed && listed.error().status != CTR_E_UNIMPLEMENTED) return listed.error();
    json out = json::array();
    for (const auto& p : sys::container_processes(static_cast<pid_t>(*c.pid)))
        out.push_back({{"pid", p.pid}, {"ppid", p.ppid}, {"command", p.command}});
    return out;
}

}  // namespace ctr::apiserver
