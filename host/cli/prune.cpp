#include "cli/prune.hpp"

#include "cli/listing.hpp"
#include "cli/output.hpp"

#include <ctr/base/units.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

namespace ctr::cli {

using nlohmann::json;

namespace {

struct PruneOptions {
    bool all = false, volumes = false, force = false;
    std::vector<std::string> filters;
};

Result<json> prune(const api::Client& client, const std::string& path, bool all, const std::vector<std::string>& filters) {
    std::string query = all ? "all=1" : "";
    if (!filters.empty()) query += std::string(query.empty() ? "" : "&") + "filters=" + CTR_TRY(filters_query(filters));
    return client.call("POST", path + (query.empty() ? "" : "?" + query));
}

// docker's question before a system prune; anything but y or yes is no.
bool confirmed(const PruneOptions& o) {
    std::fprintf(stderr, "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n");
    if (o.volumes) std::fprintf(stderr, "  - all anonymous volumes not used by at least one container\n");
    std::fprintf(stderr, o.all ? "  - all images without at least one container associated to them\n" : "  - all dangling images\n");
    std::fprintf(stderr, "\nAre you sure you want to continue? [y/N] ");
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes";
}

int system_prune(const Globals& g, const PruneOptions& o) {
    if (!o.force && !confirmed(o)) return 0;
    auto client = daemon_client(g);
    if (!client) return fail(client.error());
    struct Step {
        const char* title;
        const char* path;
        bool all;
    };
    std::vector<Step> steps = {{"Deleted Containers", "/v1/containers/prune", false}, {"Deleted Networks", "/v1/networks/prune", false}};
    if (o.volumes) steps.push_back({"Deleted Volumes", "/v1/volumes/prune", false});
    steps.push_back({"Deleted Images", "/v1/images/prune", o.all});
    int64_t reclaimed = 0;
    for (const auto& s : steps) {
        // Volumes have no creation time to compare with until=: docker refuses it there too.
        std::vector<std::string> filters;
        for (const auto& f : o.filters)
            if (std::string(s.path) != "/v1/volumes/prune" || f.rfind("until=", 0) != 0) filters.push_back(f);
        auto r = prune(*client, s.path, s.all, filters);
        if (!r) return fail(r.error());
        const json removed = r->value("removed", json::array());
        if (!removed.empty()) {
            std::printf("%s:\n", s.title);
            for (const auto& n : removed) std::printf("%s\n", n.get<std::string>().c_str());
            std::printf("\n");
        }
        reclaimed += r->value("reclaimed", int64_t{0});
    }
    std::printf("Total reclaimed space: %s\n", human_size(reclaimed).c_str());
    return 0;
}

}  // namespace

void add_prune_command(CLI::App* parent, Globals& g, const PruneKind& kind, const std::string& description) {
    auto* cmd = parent->add_subcommand("prune", description);
    auto o = std::make_shared<PruneOptions>();
    if (kind.all_help) cmd->add_flag("-a,--all", o->all, kind.all_help);
    cmd->add_option("--filter", o->filters, "until=TIME (made before it), label=K[=V], label!=K[=V]")->allow_extra_args(false);
    cmd->add_flag("-f,--force", o->force, "do not ask (it never asks: accepted for docker's scripts)");
    const std::string path = kind.path;
    on_run(cmd, g, [&g, o, path] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = prune(*client, path, o->all, o->filters);
        if (!r) return fail(r.error());
        print_prune(*r);
        return 0;
    });
}

void add_system_prune(CLI::App* system, Globals& g) {
    auto* cmd = system->add_subcommand("prune", "remove stopped containers, unused networks, and (-a) unused images, (--volumes) anonymous volumes");
    auto o = std::make_shared<PruneOptions>();
    cmd->add_flag("-a,--all", o->all, "every image no container uses, not only dangling ones");
    cmd->add_flag("--volumes", o->volumes, "anonymous volumes no container uses too");
    cmd->add_flag("-f,--force", o->force, "do not ask first");
    cmd->add_option("--filter", o->filters, "until=TIME (made before it), label=K[=V], label!=K[=V]")->allow_extra_args(false);
    on_run(cmd, g, [&g, o] { return system_prune(g, *o); });
}

}  // namespace ctr::cli
