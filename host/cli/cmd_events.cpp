// `container events`: what happens in the engine, as it happens (as
// `docker events`): one line per event, or JSON lines with --format json.
//
//   container events [--filter KEY=VALUE]... [--since T] [--until T] [--format table|json]
#include "cli/app.hpp"
#include "cli/go_template.hpp"
#include "cli/listing.hpp"
#include "cli/output.hpp"

#include <ctr/base/strings.hpp>

#include <cstdio>
#include <map>
#include <memory>

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

// An event as docker's events.Message, for a --format template.
nlohmann::json docker_message(const nlohmann::json& e) {
    const nlohmann::json attributes = e.value("attributes", nlohmann::json::object());
    const int64_t ns = e.value("time_nano", int64_t{0});
    const bool container = e.value("type", "") == "container";
    return {{"Type", e.value("type", "")},
            {"Action", e.value("action", "")},
            {"Status", container ? e.value("action", "") : ""},
            {"ID", container ? e.value("id", "") : ""},
            {"From", container ? attributes.value("image", "") : ""},
            {"Actor", {{"ID", e.value("id", "")}, {"Attributes", attributes}}},
            {"Scope", "local"},
            {"Time", ns / 1000000000},
            {"TimeNano", ns}};
}

int events(const Globals& g, const std::vector<std::string>& filters, const std::string& since, const std::string& until, const std::string& format) {
    std::map<std::string, std::vector<std::string>> by_key;
    for (const auto& f : filters) {
        const auto eq = f.find('=');
        if (eq == std::string::npos || eq == 0) return error("--filter \"" + f + "\": want KEY=VALUE (type, container, image, label, event, network, volume)", 125);
        by_key[f.substr(0, eq)].push_back(f.substr(eq + 1));
    }
    std::unique_ptr<gotmpl::Template> tmpl;
    if (is_template(format)) {
        auto t = gotmpl::Template::parse(gotmpl::unescape_format(format));
        if (!t) return error("--format: " + t.error().message);
        tmpl = std::make_unique<gotmpl::Template>(std::move(*t));
    }
    std::string target = "/v1/events?filters=" + url_escape(nlohmann::json(by_key).dump());
    if (!since.empty()) target += "&since=" + url_escape(since);
    if (!until.empty()) target += "&until=" + url_escape(until);
    auto client = daemon_client(g);
    if (!client) return fail(client.error());
    std::string pending;
    Status failed;
    auto st = client->stream(target, [&](std::string_view data) {
        pending.append(data);
        for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
            const std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            if (format == "json") {
                std::printf("%s\n", line.c_str());
            } else if (tmpl) {
                auto e = nlohmann::json::parse(line, nullptr, false);
                if (!e.is_object()) continue;
                auto text = tmpl->execute(docker_message(e));
                if (!text) {
                    failed = text.error();
                    return false;
                }
                std::printf("%s\n", text->c_str());
            } else {
                auto e = nlohmann::json::parse(line, nullptr, false);
                if (e.is_object()) std::printf("%s\n", event_line(e).c_str());
            }
        }
        std::fflush(stdout);
        return true;
    });
    if (!failed) return error("--format: " + failed.error().message);
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
    cmd->add_option("--format", o->format, "table (one line per event), json (JSON lines), or a Go template over docker's fields ('{{.Action}} {{.Actor.Attributes.name}}')");
    on_run(cmd, g, [&g, o] { return events(g, o->filters, o->since, o->until, o->format); });
}

}  // namespace ctr::cli
