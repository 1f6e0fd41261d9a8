// Commands docker users reach for that read what the engine already knows:
// `port`, `history` (and `image history`), `info`. Each reads our API, or
// the Docker API's view of the same thing where docker's shape is the point.
#include "cli/app.hpp"
#include "cli/go_template.hpp"
#include "cli/listing.hpp"
#include "cli/output.hpp"

#include <ctr/base/strings.hpp>
#include <ctr/base/units.hpp>

#include <cstdio>
#include <ctime>
#include <memory>

namespace ctr::cli {

using nlohmann::json;

namespace {

// "80/tcp -> 0.0.0.0:8080" lines of a container, or only the host side of
// `wanted` ("80" or "80/udp").
int port(const Globals& g, const std::string& name, const std::string& wanted) {
    auto client = daemon_client(g);
    if (!client) return fail(client.error());
    auto c = client->call("GET", "/v1/containers/" + url_escape(name));
    if (!c) return fail(c.error());
    std::string want = wanted;
    if (!want.empty() && want.find('/') == std::string::npos) want += "/tcp";
    bool any = false;
    const json attachments = c->value("config", json::object()).value("network_attachments", json::array());
    for (const auto& a : attachments)
        for (const auto& p : a.value("ports", json::array())) {
            const std::string inside = std::to_string(p.value("container_port", 0)) + "/" + p.value("protocol", "tcp");
            std::string ip = p.value("host_ip", "");
            const std::string outside = (ip.empty() ? "0.0.0.0" : ip) + ":" + std::to_string(p.value("host_port", 0));
            if (!want.empty() && inside != want) continue;
            any = true;
            if (want.empty()) std::printf("%s -> %s\n", inside.c_str(), outside.c_str());
            else std::printf("%s\n", outside.c_str());
        }
    if (!any && !want.empty()) return error("no public port '" + want + "' published for " + name);
    return 0;
}

const ListKind& history_kind() {
    static const ListKind k{{{"ID", "IMAGE"}, {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"}, {"CreatedBy", "CREATED BY"},
                             {"Size", "SIZE"}, {"Comment", "COMMENT"}},
                            [](const json& h, bool no_trunc) {
                                std::string id = h.value("Id", "");
                                if (!no_trunc && id.rfind("sha256:", 0) == 0) id = id.substr(7, 12);
                                std::string by = h.value("CreatedBy", "");
                                if (!no_trunc && by.size() > 45) by = by.substr(0, 44) + "…";
                                const int64_t created = h.value("Created", int64_t{0});
                                json fields = {{"ID", id},
                                               {"CreatedSince", created ? human_duration(std::time(nullptr) - created) + " ago" : "N/A"},
                                               {"CreatedAt", created ? rfc3339(created) : "N/A"},
                                               {"CreatedBy", by},
                                               {"Size", human_size(h.value("Size", int64_t{0}))},
                                               {"Comment", h.value("Comment", "")}};
                                return std::vector<RowView>{RowView{fields}};
                            }};
    return k;
}

struct HistoryOptions {
    std::string image;
    ListFlags lf;
};

int history(const Globals& g, const HistoryOptions& o) {
    if (auto st = check_format(o.lf.format); !st) return fail(st.error());
    auto client = daemon_client(g);
    if (!client) return fail(client.error());
    auto r = client->call("GET", "/v1/docker/images/" + o.image + "/history");
    if (!r) return fail(r.error());
    if (o.lf.quiet) {
        for (const auto& h : *r) std::printf("%s\n", history_kind().rows(h, o.lf.no_trunc)[0].fields["ID"].get<std::string>().c_str());
    } else if (o.lf.format == "json") {
        print_json(*r);
    } else {
        std::string format = is_template(o.lf.format) ? o.lf.format : "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
        if (auto st = print_template(format, *r, history_kind(), o.lf.no_trunc); !st) return fail(st.error());
    }
    return 0;
}

void add_history(CLI::App* parent, Globals& g, const std::string& name) {
    auto* cmd = parent->add_subcommand(name, "show the layers of an image and the steps that made them, newest first");
    auto o = std::make_shared<HistoryOptions>();
    cmd->add_option("image", o->image, "an image reference or id")->required();
    cmd->add_option("--format", o->lf.format, "table, json, or a Go template ('{{.CreatedBy}}')");
    cmd->add_flag("-q,--quiet", o->lf.quiet, "print ids only");
    cmd->add_flag("--no-trunc", o->lf.no_trunc, "do not shorten ids and steps");
    on_run(cmd, g, [&g, o] { return history(g, *o); });
}

// docker info's plain lines, from the Docker API's /info.
void print_info(const json& i) {
    auto line = [](const char* label, const std::string& value) { std::printf("%s: %s\n", label, value.c_str()); };
    auto num = [&](const char* key) { return std::to_string(i.value(key, int64_t{0})); };
    line("Containers", num("Containers"));
    line(" Running", num("ContainersRunning"));
    line(" Paused", num("ContainersPaused"));
    line(" Stopped", num("ContainersStopped"));
    line("Images", num("Images"));
    line("Server Version", i.value("ServerVersion", ""));
    line("Storage Driver", i.value("Driver", ""));
    std::string runtimes;
    const json rts = i.value("Runtimes", json::object());
    for (auto it = rts.begin(); it != rts.end(); ++it) runtimes += (runtimes.empty() ? "" : " ") + it.key();
    line("Runtimes", runtimes);
    line("Default Runtime", i.value("DefaultRuntime", ""));
    line("Cgroup Driver", i.value("CgroupDriver", ""));
    line("Cgroup Version", i.value("CgroupVersion", ""));
    line("Kernel Version", i.value("KernelVersion", ""));
    line("Operating System", i.value("OperatingSystem", ""));
    line("Architecture", i.value("Architecture", ""));
    line("CPUs", num("NCPU"));
    line("Total Memory", human_size(i.value("MemTotal", int64_t{0})));
    line("Name", i.value("Name", ""));
    line("Root Dir", i.value("DockerRootDir", ""));
}

}  // namespace

void add_habit_commands(CLI::App& app, Globals& g) {
    auto* port_cmd = app.add_subcommand("port", "list a container's published ports, or the host side of one");
    static std::string port_name, port_private;
    port_cmd->add_option("container", port_name, "container")->required();
    port_cmd->add_option("port", port_private, "PORT[/PROTO]: only this one's host address");
    on_run(port_cmd, g, [&g] { return port(g, port_name, port_private); });

    add_history(&app, g, "history");

    auto* info = app.add_subcommand("info", "show the engine's version, counts, runtimes and host");
    static std::string info_format;
    info->add_option("--format", info_format, "json, or a Go template over docker's fields ('{{.ServerVersion}}')");
    on_run(info, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = client->call("GET", "/v1/docker/info");
        if (!r) return fail(r.error());
        if (info_format == "json") {
            print_json(*r);
        } else if (!info_format.empty()) {
            auto t = gotmpl::Template::parse(gotmpl::unescape_format(info_format));
            auto text = t ? t->execute(*r) : Result<std::string>(t.error());
            if (!text) return error("--format: " + text.error().message);
            std::printf("%s\n", text->c_str());
        } else {
            print_info(*r);
        }
        return 0;
    });

    // `container help CMD...` is rewritten to `container CMD... --help`
    // before parsing (main.cpp); this entry puts it in the command list.
    app.add_subcommand("help", "show the help of a command: container help image ls");
}

void add_image_history(CLI::App* image, Globals& g) { add_history(image, g, "history"); }

}  // namespace ctr::cli
