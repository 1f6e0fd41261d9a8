// `container volume create|ls|rm|inspect|prune` (alias `v`).
#include <ctr/base/units.hpp>
#include "cli/app.hpp"
#include "cli/listing.hpp"
#include "cli/inspect.hpp"
#include "cli/output.hpp"
#include "cli/prune.hpp"

#include <cstdio>

namespace ctr::cli {

static void add_volume_create(CLI::App* volume, Globals& g) {
    auto* create = volume->add_subcommand("create", "create a named volume (or an anonymous one without a name)");
    static std::string name;
    static std::vector<std::string> labels, opts;
    create->add_option("name", name, "volume name");
    create->add_option("-l,--label", labels, "label key=value (repeatable)")->allow_extra_args(false);
    create->add_option("--opt", opts, "driver option key=value (repeatable)")->allow_extra_args(false);
    on_run(create, g, [&g] {
        auto l = key_values(labels, "--label");
        if (!l) return fail(l.error());
        auto o = key_values(opts, "--opt");
        if (!o) return fail(o.error());
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        nlohmann::json body = {{"labels", *l}, {"options", *o}};
        if (!name.empty()) body["name"] = name;
        auto r = client->call("POST", "/v1/volumes", body);
        if (!r) return fail(r.error());
        std::printf("%s\n", (*r)["name"].get<std::string>().c_str());
        return 0;
    });
}

static void add_volume_ls(CLI::App* volume, Globals& g) {
    auto* ls = volume->add_subcommand("ls", "list volumes")->alias("list");
    static ListFlags lf;
    add_list_flags(ls, lf);
    on_run(ls, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        ListSource src{"/v1/volumes", "/v1/docker/volumes", "name", "Name", "Volumes"};
        return run_listing(*client, src, lf, volume_kind(), [](const nlohmann::json& items) {
        if (lf.quiet) {
            for (const auto& v : items) std::printf("%s\n", v["name"].get<std::string>().c_str());
        } else if (lf.format == "json") {
            print_json(items);
        } else {
            std::vector<std::vector<std::string>> rows;
            for (const auto& v : items)
                rows.push_back({v["name"], v["driver"], v["anonymous"].get<bool>() ? "anonymous" : "named", v["mountpoint"]});
            std::fputs(render_table({"NAME", "DRIVER", "TYPE", "MOUNTPOINT"}, rows).c_str(), stdout);
        }
        });
    });
}

static void add_volume_rm(CLI::App* volume, Globals& g) {
    auto* rm = volume->add_subcommand("rm", "remove volumes")->alias("delete");
    static std::vector<std::string> rm_names;
    static bool rm_force = false;
    rm->add_option("name", rm_names, "volume names")->required();
    rm->add_flag("-f,--force", rm_force, "do not fail on volumes that do not exist");
    on_run(rm, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        int rc = 0;
        for (const auto& n : rm_names) {
            auto r = client->call("DELETE", "/v1/volumes/" + n + (rm_force ? "?force=1" : ""));
            if (!r) rc = fail(r.error());
            else std::printf("%s\n", n.c_str());
        }
        return rc;
    });
}



void add_volume_commands(CLI::App& app, Globals& g) {
    auto* volume = app.add_subcommand("volume", "manage volumes")->alias("v");
    volume->require_subcommand(1);

    add_volume_create(volume, g);
    add_volume_ls(volume, g);
    add_volume_rm(volume, g);
    add_inspect_command(volume, g, {ObjectKind::Volume}, "show volumes in detail, as json");
    add_prune_command(volume, g, {"/v1/volumes/prune", "named volumes too"},
                      "remove every anonymous volume no container uses; -a: named ones too");
}

}  // namespace ctr::cli
