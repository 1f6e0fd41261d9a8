// GET /containers/{id}/stats and /top in Docker's shapes, from the
// container service's stats and top. Docker's CPU percentage is the
// container's CPU time over the host's between two readings: a one-time
// answer (stream=false) takes two, a second apart, unless one-shot.
#include "apiserver/docker/docker_api.hpp"

#include <ctr/base/strings.hpp>
#include <ctr/sys/process.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

namespace ctr::apiserver::docker {

using nlohmann::json;

namespace {

std::string now_rfc3339_nano() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(ns % 1000000000));
    std::string t = ctr::rfc3339(ns / 1000000000);
    t.insert(t.size() - 1, frac);
    return t;
}

struct Reading {
    json ours;         // Containers::stats
    int64_t host_ns;   // host CPU time then
    std::string when;
};

Result<Reading> read_once(Containers& cs, const std::string& id) {
    Reading r;
    r.ours = CTR_TRY(cs.stats(id));
    r.host_ns = sys::host_cpu_ns();
    r.when = now_rfc3339_nano();
    return r;
}

json cpu_stats(const Reading& r) {
    const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
    return {{"cpu_usage", {{"total_usage", r.ours.value("cpu_ns", int64_t{0})}, {"usage_in_kernelmode", 0}, {"usage_in_usermode", 0}}},
            {"system_cpu_usage", r.host_ns},
            {"online_cpus", cpus > 0 ? cpus : 1},
            {"throttling_data", {{"periods", 0}, {"throttled_periods", 0}, {"throttled_time", 0}}}};
}

json docker_stats(const Reading& now, const Reading* before, const store::ContainerRecord& c) {
    const json mem = now.ours.value("memory", json::object()), pids = now.ours.value("pids", json::object());
    const json net = now.ours.value("net", json::object()), blk = now.ours.value("blkio", json::object());
    int64_t limit = mem.value("limit", int64_t{-1});
    if (limit <= 0) limit = static_cast<int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGE_SIZE);
    json blkio = json::array();
    if (blk.contains("read_bytes")) blkio.push_back({{"major", 0}, {"minor", 0}, {"op", "read"}, {"value", blk.value("read_bytes", 0)}});
    if (blk.contains("write_bytes")) blkio.push_back({{"major", 0}, {"minor", 0}, {"op", "write"}, {"value", blk.value("write_bytes", 0)}});
    return {{"read", now.when},
            {"preread", before ? before->when : "0001-01-01T00:00:00Z"},
            {"id", c.id},
            {"name", "/" + c.name},
            {"num_procs", 0},
            // Docker's counters are unsigned: "no limit" (our -1) is 0 there.
            {"pids_stats", {{"current", std::max<int64_t>(0, pids.value("current", int64_t{0}))}, {"limit", std::max<int64_t>(0, pids.value("limit", int64_t{0}))}}},
            {"cpu_stats", cpu_stats(now)},
            {"precpu_stats", before ? cpu_stats(*before) : json{{"cpu_usage", {{"total_usage", 0}}}, {"throttling_data", json::object()}}},
            {"memory_stats", {{"usage", mem.value("usage", 0)}, {"limit", limit}, {"stats", json::object()}}},
            {"blkio_stats", {{"io_service_bytes_recursive", blkio}}},
            {"networks", {{"eth0", {{"rx_bytes", net.value("rx_bytes", 0)}, {"tx_bytes", net.value("tx_bytes", 0)}, {"rx_packets", 0}, {"tx_packets", 0},
                                     {"rx_errors", 0}, {"tx_errors", 0}, {"rx_dropped", 0}, {"tx_dropped", 0}}}}}};
}

Result<store::ContainerRecord> running(Containers& cs, const std::string& key) {
    auto c = cs.get(key);
    if (!c) return make_error(CTR_E_NOT_FOUND, "No such container: " + key);
    if (c->state != store::ContainerState::running) return make_error(CTR_E_FAILED_PRECONDITION, "Container " + c->id + " is not running");
    return *c;
}

}  // namespace

void add_stats_routes(Router& r, Daemon& d, Containers& cs) {
    r.add("GET", "/containers/{id}/stats", [&cs, &d](const Request& req) -> Result<Reply> {
        auto c = CTR_TRY(running(cs, req.param("id")));
        auto stream_it = req.query.find("stream");
        const bool stream = stream_it == req.query.end() || stream_it->second == "1" || stream_it->second == "true";
        if (!stream) {
            Reading first = CTR_TRY(read_once(cs, c.id));
            if (req.flag("one-shot")) return json_reply(docker_stats(first, nullptr, c));
            std::this_thread::sleep_for(std::chrono::seconds(1));
            Reading second = CTR_TRY(read_once(cs, c.id));
            return json_reply(docker_stats(second, &first, c));
        }
        Reply reply;
        reply.content_type = "application/json";
        reply.stream = [&cs, &d, c](const Writer& write) {
            std::optional<Reading> before;
            while (!d.stopping) {
                auto now = read_once(cs, c.id);
                if (!now) return;  // it stopped
                if (!write(docker_stats(*now, before ? &*before : nullptr, c).dump() + "\n")) return;
                before = std::move(*now);
                std::this_thread::sleep_for(std::chrono::seconds(1));
            }
        };
        return reply;
    });
    r.add("GET", "/containers/{id}/top", [&cs](const Request& req) -> Result<Reply> {
        auto c = CTR_TRY(running(cs, req.param("id")));
        json processes = json::array();
        for (const auto& p : CTR_TRY(cs.top(c.id)))
            processes.push_back({std::to_string(p.value("pid", 0)), std::to_string(p.value("ppid", 0)), p.value("command", "")});
        return json_reply(json{{"Titles", {"PID", "PPID", "CMD"}}, {"Processes", processes}});
    });
}

}  // namespace ctr::apiserver::docker
