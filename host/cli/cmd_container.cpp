// Container commands that work on the daemon's records: ls, inspect, rm,
// prune. (run, create, start, stop, kill, exec, logs, stats, cp, export
// arrive with the runtime.)
#include "cli/app.hpp"
#include "cli/inspect.hpp"
#include "cli/listing.hpp"
#include "cli/output.hpp"
#include "cli/prune.hpp"

#include <cstdio>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <unistd.h>
#include <map>
#include <thread>

#include <fmt/format.h>

#include <ctr/base/units.hpp>

namespace ctr::cli {


void add_container_commands(CLI::App& app, Globals& g) {
    auto* ls = app.add_subcommand("ls", "list containers")->alias("list")->alias("ps");
    static ListFlags lf;
    static bool all = false, latest = false, size = false;
    static int last = -1;
    add_list_flags(ls, lf);
    ls->add_flag("-a,--all", all, "include containers that are not running");
    ls->add_option("-n,--last", last, "the last N containers made, whatever their state");
    ls->add_flag("-l,--latest", latest, "the last container made, whatever its state");
    ls->add_flag("-s,--size", size, "what each wrote, and that with its image (virtual)");
    on_run(ls, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        if (latest) last = 1;
        const bool every = all || last > 0;
        ListSource src{every ? "/v1/containers?all=1" : "/v1/containers",
                       std::string("/v1/docker/containers/json?all=") + (every ? "1" : "0") + (last > 0 ? "&limit=" + std::to_string(last) : ""),
                       "id", "Id", ""};
        if (!lf.filters.empty()) src.ours = "/v1/containers?all=1";
        if (size) {
            src.ours += src.ours.find('?') == std::string::npos ? "?size=1" : "&size=1";
            src.docker += "&size=1";
        }
        // A table or ids need no configs: only their ports.
        if (lf.format != "json") src.ours += src.ours.find('?') == std::string::npos ? "?summary=1" : "&summary=1";
        return run_listing(*client, src, lf, container_kind(), [](nlohmann::json items) {
            if (last > 0 && items.size() > static_cast<size_t>(last)) items.erase(items.begin() + last, items.end());
            auto id_of = [](const nlohmann::json& c) { return lf.no_trunc ? c["id"].get<std::string>() : c["id"].get<std::string>().substr(0, 12); };
            if (lf.quiet) {
                for (const auto& c : items) std::printf("%s\n", id_of(c).c_str());
            } else if (lf.format == "json") {
                print_json(items);
            } else {
                std::vector<std::vector<std::string>> rows;
                for (const auto& c : items) {
                    rows.push_back({id_of(c), c["name"], c["image"], state_text(c), c["runtime"],
                                    time_ago(std::time(nullptr) - c["created_at"].get<int64_t>()), ports_text(c)});
                    if (size) rows.back().push_back(size_text(c.value("size_rw", int64_t{0}), c.value("size_root_fs", int64_t{0})));
                }
                std::vector<std::string> head = {"ID", "NAME", "IMAGE", "STATE", "RUNTIME", "CREATED", "PORTS"};
                if (size) head.push_back("SIZE");
                std::fputs(render_table(head, rows).c_str(), stdout);
            }
        });
    });

    add_inspect_command(&app, g, {ObjectKind::Container, ObjectKind::Image, ObjectKind::Network, ObjectKind::Volume},
                        "show containers (or images, networks, volumes) in detail, as json");

    auto* rm = app.add_subcommand("rm", "remove containers")->alias("delete");
    static std::vector<std::string> rm_ids;
    static bool force = false, rm_all = false, rm_volumes = false;
    rm->add_option("container", rm_ids, "container ids or names");
    rm->add_flag("-f,--force", force, "remove running containers too");
    rm->add_flag("-a,--all", rm_all, "remove every container");
    rm->add_flag("-v,--volumes", rm_volumes, "remove their anonymous volumes too");
    on_run(rm, g, [&g] {
        if (rm_all == !rm_ids.empty()) return error("rm: give container ids or --all, not both or neither");
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        if (rm_all) {
            auto list = client->call("GET", "/v1/containers?all=1");
            if (!list) return fail(list.error());
            for (const auto& c : *list) rm_ids.push_back(c["id"]);
        }
        int rc = 0;
        for (const auto& id : rm_ids) {
            auto r = client->call("DELETE", "/v1/containers/" + id + "?force=" + (force ? "1" : "0") + "&volumes=" + (rm_volumes ? "1" : "0"));
            if (!r && force && r.error().status == CTR_E_NOT_FOUND) continue;  // -f: gone already is done (docker's way)
            if (!r) rc = fail(r.error());
            else std::printf("%s\n", id.c_str());
        }
        return rc;
    });

    add_prune_command(&app, g, {"/v1/containers/prune", nullptr}, "remove every stopped container");
}

}  // namespace ctr::cli

namespace ctr::cli {

void add_stats_command(CLI::App& app, Globals& g) {
    auto* stats = app.add_subcommand("stats", "show containers' resource use");
    static std::vector<std::string> ids;
    static bool no_stream = false;
    static std::string format = "table";
    stats->add_option("container", ids, "containers (default: every running one)");
    stats->add_flag("--no-stream", no_stream, "one sample, then exit");
    stats->add_option("--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));
    on_run(stats, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        std::vector<std::string> targets = ids;
        if (targets.empty()) {
            auto list = client->call("GET", "/v1/containers");
            if (!list) return fail(list.error());
            for (const auto& c : *list) targets.push_back(c["id"]);
        }
        auto sample = [&](std::map<std::string, nlohmann::json>& into) -> int {
            for (const auto& id : targets) {
                auto r = client->call("GET", "/v1/containers/" + id + "/stats");
                if (!r) return fail(r.error());
                into[id] = *r;
            }
            return 0;
        };
        // CPU % needs two samples: 0.5 s apart.
        std::map<std::string, nlohmann::json> before, after;
        if (int rc = sample(before); rc) return rc;
        for (;;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
            after.clear();
            if (int rc = sample(after); rc) return rc;
            nlohmann::json arr = nlohmann::json::array();
            std::vector<std::vector<std::string>> rows;
            for (const auto& id : targets) {
                const auto& a = after[id];
                double cpu = (a.value("cpu_ns", 0.0) - before[id].value("cpu_ns", 0.0)) / 5e6;  // % of one CPU over 0.5 s
                nlohmann::json row = a;
                row["cpu_percent"] = cpu;
                arr.push_back(row);
                int64_t limit = a.contains("memory") ? a["memory"].value("limit", int64_t{-1}) : -1;
                rows.push_back({a["id"].get<std::string>().substr(0, 12), a["name"], fmt::format("{:.2f}%", cpu),
                                human_size(a.contains("memory") ? a["memory"].value("usage", int64_t{0}) : 0) + " / " +
                                    (limit < 0 ? std::string("unlimited") : human_size(limit)),
                                human_size(a["net"]["rx_bytes"].get<int64_t>()) + " / " + human_size(a["net"]["tx_bytes"].get<int64_t>()),
                                a.contains("blkio") ? human_size(a["blkio"]["read_bytes"].get<int64_t>()) + " / " +
                                                          human_size(a["blkio"]["write_bytes"].get<int64_t>())
                                                    : "-",
                                a.contains("pids") ? std::to_string(a["pids"].value("current", int64_t{0})) : "-"});
            }
            if (format == "json") print_json(arr);
            else {
                if (!no_stream) std::printf("\033[2J\033[H");  // redraw in place, as top does
                std::fputs(render_table({"ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "NET I/O", "BLOCK I/O", "PIDS"}, rows).c_str(), stdout);
            }
            std::fflush(stdout);
            if (no_stream) return 0;
            before = after;
        }
    });
}

}  // namespace ctr::cli

namespace ctr::cli {

void add_rename_top_export(CLI::App& app, Globals& g) {
    auto* rename = app.add_subcommand("rename", "rename a container");
    static std::string old_name, new_name;
    rename->add_option("container", old_name, "container")->required();
    rename->add_option("name", new_name, "new name")->required();
    on_run(rename, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        std::string q = new_name;
        auto r = client->call("POST", "/v1/containers/" + old_name + "/rename?name=" + q);
        return r ? 0 : fail(r.error());
    });

    auto* top = app.add_subcommand("top", "show a container's processes");
    static std::string top_id;
    static std::string top_format = "table";
    top->add_option("container", top_id, "container")->required();
    top->add_option("--format", top_format, "table or json")->check(CLI::IsMember({"table", "json"}));
    on_run(top, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = client->call("GET", "/v1/containers/" + top_id + "/top");
        if (!r) return fail(r.error());
        if (top_format == "json") {
            print_json(*r);
            return 0;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& p : *r)
            rows.push_back({std::to_string(p["pid"].get<int64_t>()), std::to_string(p["ppid"].get<int64_t>()), p["command"]});
        std::fputs(render_table({"PID", "PPID", "COMMAND"}, rows).c_str(), stdout);
        return 0;
    });

    auto* exp = app.add_subcommand("export", "write a container's root filesystem as a tar");
    static std::string exp_id, exp_out;
    exp->add_option("container", exp_id, "container")->required();
    exp->add_option("-o,--output", exp_out, "file to write (default: stdout)");
    on_run(exp, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        if (exp_out.empty() && isatty(STDOUT_FILENO)) return error("export: refusing to write a tar to a terminal (use -o FILE)");
        std::FILE* out = exp_out.empty() ? stdout : std::fopen(exp_out.c_str(), "wb");
        if (!out) return error("export: cannot open \"" + exp_out + "\": " + std::strerror(errno));
        auto st = client->stream("/v1/containers/" + exp_id + "/export", [out](std::string_view d) {
            return std::fwrite(d.data(), 1, d.size(), out) == d.size();
        });
        if (out != stdout) std::fclose(out);
        return st ? 0 : fail(st.error());
    });
}

}  // namespace ctr::cli
