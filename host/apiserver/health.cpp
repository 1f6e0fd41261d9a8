#include "apiserver/health.hpp"

#include <ctr/sys/files.hpp>

#include <spdlog/spdlog.h>

#include <chrono>

namespace ctr::apiserver {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double monotonic_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double wall_s() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

constexpr size_t kOutputLimit = 4096;  // of each check's output, kept in the log
constexpr size_t kLogEntries = 5;

}  // namespace

Health::~Health() {
    // Checks still in flight end with their exec; their futures wait for them here.
    tracks_.clear();
}

json Health::of(const store::ContainerRecord& c, const fs::path& dir) {
    if (c.settings().healthcheck.is_null()) return nullptr;
    auto text = sys::read_file(dir / "health.json");
    if (text) {
        auto j = json::parse(*text, nullptr, false);
        if (j.is_object()) return j;
    }
    if (c.state == store::ContainerState::running) return {{"status", "starting"}, {"failing_streak", 0}, {"log", json::array()}};
    return nullptr;
}

void Health::record(const store::ContainerRecord& c, const json& hc, const Check& result, double start, double end) {
    fs::path dir = cs_.dir_of(c.id);
    json h = of(c, dir);
    if (!h.is_object()) h = {{"status", "starting"}, {"failing_streak", 0}, {"log", json::array()}};
    bool passed = result.exit_code == 0;
    bool in_start_period = c.started_at && start < static_cast<double>(*c.started_at) + hc.value("start_period", 0.0);
    if (passed) {
        h["status"] = "healthy";
        h["failing_streak"] = 0;
    } else if (!in_start_period) {
        int64_t streak = h.value("failing_streak", int64_t{0}) + 1;
        h["failing_streak"] = streak;
        if (streak >= hc.value("retries", int64_t{3})) h["status"] = "unhealthy";
    }
    json& log = h["log"];
    log.push_back({{"start", start}, {"end", end}, {"exit_code", result.exit_code}, {"output", result.output}});
    while (log.size() > kLogEntries) log.erase(log.begin());
    if (auto st = sys::write_file_atomic(dir / "health.json", h.dump(), 0600); !st)
        spdlog::warn("health of {}: {}", c.name, st.error().message);
    if (h["status"] == "unhealthy" && h["failing_streak"] == hc.value("retries", int64_t{3}))
        spdlog::warn("container {} is unhealthy (exit code {})", c.name, result.exit_code);
}

void Health::tick(const std::vector<store::ContainerRecord>& containers) {
    std::set<std::string> alive;
    for (const auto& c : containers) {
        const json hc = c.settings().healthcheck;
        if (c.state != store::ContainerState::running || !hc.is_object() || !c.started_at) continue;
        alive.insert(c.id);
        Track& t = tracks_[c.id];
        double now = monotonic_s();
        if (t.started_at != *c.started_at) {  // a new run: the first check one interval after it started
            if (t.running.valid() && t.running.wait_for(std::chrono::seconds(0)) != std::future_status::ready) continue;
            t = Track{};
            t.started_at = *c.started_at;
            t.next_due = now + hc.value("interval", 30.0);
            continue;
        }
        if (t.running.valid()) {
            bool ready = t.running.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
            if (ready) {
                Check result = t.running.get();
                if (!t.timed_out) record(c, hc, result, t.check_started, wall_s());
                t.timed_out = false;
                t.next_due = now + hc.value("interval", 30.0);
            } else if (!t.timed_out && wall_s() - t.check_started > hc.value("timeout", 30.0)) {
                // Counted as failed now; the next one waits until this one ends.
                t.timed_out = true;
                record(c, hc, Check{-1, "timed out after " + std::to_string(hc.value("timeout", 30.0)) + " s"}, t.check_started,
                       wall_s());
            }
            continue;
        }
        if (now < t.next_due) continue;
        t.check_started = wall_s();
        json body = {{"cmd", hc["test"]}};
        std::string id = c.id;
        t.running = std::async(std::launch::async, [this, id, body] {
            Check out;
            std::string buffer;
            auto st = cs_.exec(id, body, [&](std::string_view d) {
                buffer.append(d);
                return true;
            });
            if (!st) {
                out.output = st.error().message;
                return out;
            }
            // Docker's frames: [stream, 0, 0, 0, size (4 bytes, big endian)] + data; stream 3 is the end.
            size_t at = 0;
            while (at + 8 <= buffer.size()) {
                auto u = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(buffer[at + i])); };
                uint32_t n = (u(4) << 24) | (u(5) << 16) | (u(6) << 8) | u(7);
                if (at + 8 + n > buffer.size()) break;
                std::string data = buffer.substr(at + 8, n);
                if (buffer[at] == 3) {
                    auto end = json::parse(data, nullptr, false);
                    if (end.is_object() && end.contains("exit_code")) out.exit_code = end["exit_code"];
                    else if (end.is_object() && end.contains("error")) out.output += end["error"].value("message", "");
                } else if (out.output.size() < kOutputLimit) {
                    out.output += data.substr(0, kOutputLimit - out.output.size());
                }
                at += 8 + n;
            }
            return out;
        });
    }
    // Containers that stopped or went: their tracks go once no check is in flight.
    for (auto it = tracks_.begin(); it != tracks_.end();) {
        bool idle = !it->second.running.valid() || it->second.running.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
        if (!alive.count(it->first) && idle) it = tracks_.erase(it);
        else ++it;
    }
}

}  // namespace ctr::apiserver
