// `container events`: what happens in the engine, as it happens (as
// `docker events`): one line per event, or JSON lines with --format json.
//
//   container events [--filter KEY=VALUE]... [--since T] [--until T] [--format table|json]
#include "cli/app.hpp"
#include "cli/output.hpp"

#include <ctr/base/strings.hpp>

#include <cstdio>
#include <map>

namespace ctr::cli {

namespace {

// "2026-12-04T22:10:00.123456789Z container start ID (image=..., name=...)"
std::string event_line(const nlohmann::json& e) {
    const int64_t ns = e.value("time_nano", int64_t{0});
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(ns % 1000000000));
    std::string when = rfc3339(ns / 1000000000);
    when.insert(when.size() - 1, frac);
    std::string attrs;
    const nlohmann::json attributes = e.value("attributes", nlohmann::json::object());  // items() of a temporary would dangle
    for (const auto& [k, v] : attributes.items())
        attrs += (attrs.empty() ? "" : ", ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    return when + " " + e.value("type", "") + " " + e.value("action", "") + " " + e.value("id", "") + (attrs.empty() ? "" : " (" + attrs + ")");
}

int events(const Globals& g, const std::vector<std::string>& filters, const std::string& since, const std::string& until, const std::string& format) {
    std::map<std::string, std::vector<std::string>> by_key;
    for (const auto& f : filters) {
        const auto eq = f.find('=');
        if (eq == std::string::npos || eq == 0) return error("--filter \"" + f + "\": want KEY=VALUE (type, container, image, label, event, network, volume)", 125);
        by_key[f.substr(0, eq)].push_back(f.substr(eq + 1));
    }
    std::string target = "/v1/events?filters=" + url_escape(nlohmann::json(by_key).dump());
    if (!since.empty()) target += "&since=" + url_escape(since);
    if (!until.empty()) target += "&until=" + url_escape(until);
    auto client = daemon_client(g);
    if (!client) return fail(client.error());
    std::string pending;
    auto st = client->stream(target, [&](std::string_view data) {
        pending.append(data);
        for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
            const std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            if (format == "json") {
                std::printf("%s\n", line.c_str());
            } else {
                auto e = nlohmann::json::parse(line, nullptr, false);
                if (e.is_object()) std::printf("%s\n", event_line(e).c_str());
            }
        }
        std::fflush(stdout);
        return true;
    });
    return st ? 0 : fail(st.error());
}

}  // namespace

void add_event_commands(CLI::App& app, Globals& g) {
    auto* cmd = app.add_subcommand("events", "show the engine's events as they happen (containers, images, networks, volumes)");
    struct Opts {
        std::vector<std::string> filters;
        std::string since, until, format = "table";
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("-f,--filter", o->filters, "only events matching KEY=VALUE: type, container, image, label, event, network, volume");
    cmd->add_option("--since", o->since, "also the kept events since this time (unix seconds, RFC 3339, or a duration ago: 10m)");
    cmd->add_option("--until", o->until, "stop at this time");
    cmd->add_option("--format", o->format, "table (one line per event) or json (JSON lines)")->check(CLI::IsMember({"table", "json"}));
    on_run(cmd, g, [&g, o] { return events(g, o->filters, o->since, o->until, o->format); });
}

}  // namespace ctr::cli
