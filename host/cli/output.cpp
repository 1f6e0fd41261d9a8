#include "cli/output.hpp"

#include <ctr/base/units.hpp>

#include <ctime>

#include <algorithm>
#include <cstdio>

namespace ctr::cli {

std::string render_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width(header.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
    };
    measure(header);
    for (const auto& r : rows) measure(r);
    std::string out;
    auto emit = [&](const std::vector<std::string>& row) {
        std::string line;
        for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 3, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    };
    emit(header);
    for (const auto& r : rows) emit(r);
    return out;
}

void print_json(const nlohmann::json& j) { std::printf("%s\n", j.dump(2).c_str()); }

int error(const std::string& message, int code) {
    std::fprintf(stderr, "container: %s\n", message.c_str());
    return code;
}

std::string ports_text(const nlohmann::json& c) {
    std::string out;
    const nlohmann::json atts = c.value("config", nlohmann::json::object()).value("network_attachments", nlohmann::json::array());
    for (const auto& a : atts)
        for (const auto& p : a.value("ports", nlohmann::json::array())) {
            std::string ip = p.value("host_ip", "");
            out += (out.empty() ? "" : ", ") + (ip.empty() ? std::string("0.0.0.0") : ip) + ":" + std::to_string(p.value("host_port", 0)) +
                   "->" + std::to_string(p.value("container_port", 0)) + "/" + p.value("protocol", "tcp");
        }
    return out;
}

std::string state_text(const nlohmann::json& c) {
    std::string s = c.value("state", "");
    if (s == "running" && c.value("paused", false)) s = "paused";
    if (s == "stopped" && c.contains("exit_code") && !c["exit_code"].is_null()) s = "exited (" + std::to_string(c["exit_code"].get<int>()) + ")";
    if (c.contains("health") && c["health"].is_object() && c.value("state", "") == "running") s += " (" + c["health"].value("status", "") + ")";
    return s;
}

CLI::Validator seconds_range(int64_t lo, int64_t hi) {
    return CLI::Validator(
        [lo, hi](std::string& text) -> std::string {
            size_t used = 0;
            long long v = 0;
            try {
                v = std::stoll(text, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used != text.size() || text.empty() || v < lo || v > hi)
                return "\"" + text + "\" is not a whole number of seconds from " + std::to_string(lo) + " to " + std::to_string(hi);
            return "";
        },
        "SECONDS");
}

void print_prune(const nlohmann::json& reply) {
    for (const auto& n : reply.value("removed", nlohmann::json::array())) std::printf("%s\n", n.get<std::string>().c_str());
    std::printf("Total reclaimed space: %s\n", human_size(reply.value("reclaimed", int64_t{0})).c_str());
}

void readable_times(nlohmann::json& item) {
    if (!item.is_object()) return;
    for (const char* key : {"created_at", "started_at", "finished_at", "created"})
        if (item.contains(key) && item[key].is_number_integer()) item[key] = rfc3339(item[key].get<int64_t>());
}

void print_inspect(nlohmann::json items) {
    for (auto& item : items) readable_times(item);
    print_json(items);
}

std::string time_ago(int64_t seconds) {
    int64_t d = std::max<int64_t>(0, seconds);
    auto count = [](int64_t n, const char* unit) { return std::to_string(n) + " " + unit + (n == 1 ? "" : "s") + " ago"; };
    if (d < 60) return count(d, "second");
    if (d < 3600) return count(d / 60, "minute");
    if (d < 86400) return count(d / 3600, "hour");
    return count(d / 86400, "day");
}

}  // namespace ctr::cli
