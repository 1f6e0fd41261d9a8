// `container network create|ls|rm|inspect|connect|disconnect|prune` (alias `n`).
#include "cli/app.hpp"
#include "cli/listing.hpp"
#include "cli/inspect.hpp"
#include "cli/output.hpp"
#include "cli/prune.hpp"

#include <cstdio>

namespace ctr::cli {

static void add_network_create(CLI::App* network, Globals& g) {
    auto* create = network->add_subcommand("create", "create a network");
    static std::string name, subnet, gateway;
    static bool internal = false;
    static std::vector<std::string> labels, opts;
    create->add_option("name", name, "network name")->required();
    create->add_option("--subnet", subnet, "IPv4 subnet in CIDR form (default: the next free one from the pool)");
    create->add_option("--gateway", gateway, "gateway address (default: the subnet's first)");
    create->add_flag("--internal", internal, "no way out of the network");
    create->add_option("-l,--label", labels, "label key=value (repeatable)")->allow_extra_args(false);
    create->add_option("-o,--option,--opt", opts, "driver option key=value, e.g. mtu=1400 (repeatable)")->allow_extra_args(false);
    on_run(create, g, [&g] {
        auto l = key_values(labels, "--label");
        if (!l) return fail(l.error());
        auto o = key_values(opts, "--option");
        if (!o) return fail(o.error());
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        nlohmann::json body = {{"name", name}, {"internal", internal}, {"labels", *l}, {"options", *o}};
        if (!subnet.empty()) body["subnet"] = subnet;
        if (!gateway.empty()) body["gateway"] = gateway;
        auto r = client->call("POST", "/v1/networks", body);
        if (!r) return fail(r.error());
        std::printf("%s\n", (*r)["name"].get<std::string>().c_str());
        return 0;
    });
}

static void add_network_ls(CLI::App* network, Globals& g) {
    auto* ls = network->add_subcommand("ls", "list networks")->alias("list");
    static ListFlags lf;
    add_list_flags(ls, lf);
    on_run(ls, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        ListSource src{"/v1/networks", "/v1/docker/networks", "name", "Name", ""};
        return run_listing(*client, src, lf, network_kind(), [](const nlohmann::json& items) {
        if (lf.quiet) {
            for (const auto& n : items) std::printf("%s\n", n["name"].get<std::string>().c_str());
        } else if (lf.format == "json") {
            print_json(items);
        } else {
            std::vector<std::vector<std::string>> rows;
            for (const auto& n : items)
                rows.push_back({n["name"], n["subnet"], n["gateway"], n.value("internal", false) ? "yes" : "no",
                                std::to_string(n.value("endpoints", nlohmann::json::array()).size())});
            std::fputs(render_table({"NETWORK", "SUBNET", "GATEWAY", "INTERNAL", "CONTAINERS"}, rows).c_str(), stdout);
        }
        });
    });
}


static void add_network_rm(CLI::App* network, Globals& g) {
    auto* rm = network->add_subcommand("rm", "remove networks")->alias("delete");
    static std::vector<std::string> rm_names;
    rm->add_option("name", rm_names, "networks")->required();
    on_run(rm, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        int rc = 0;
        for (const auto& n : rm_names) {
            auto r = client->call("DELETE", "/v1/networks/" + n);
            if (!r) {
                rc = fail(r.error());
                continue;
            }
            std::printf("%s\n", n.c_str());
        }
        return rc;
    });
}

// As docker's: quiet on success, one line naming what is wrong otherwise.
static void add_network_join(CLI::App* network, Globals& g) {
    static std::string net, container, ip;
    static std::vector<std::string> aliases;
    static bool force = false;
    auto* connect = network->add_subcommand("connect", "connect a container to a network (a running one at once, a stopped one at its next start)");
    connect->add_option("network", net, "network")->required();
    connect->add_option("container", container, "container")->required();
    connect->add_option("--alias", aliases, "another name for the container on this network (repeatable)")->allow_extra_args(false);
    connect->add_option("--ip", ip, "the container's IPv4 address on this network (default: the next free one)");
    auto* disconnect = network->add_subcommand("disconnect", "disconnect a container from a network");
    disconnect->add_option("network", net, "network")->required();
    disconnect->add_option("container", container, "container")->required();
    disconnect->add_flag("-f,--force", force, "accepted for docker's sake: a disconnect never waits");
    auto call = [&g](const char* action, nlohmann::json body) {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        body["container"] = container;
        auto r = client->call("POST", "/v1/networks/" + url_escape(net) + "/" + action, body);
        return r ? 0 : fail(r.error());
    };
    on_run(connect, g, [call] {
        nlohmann::json body = {{"aliases", aliases}};
        if (!ip.empty()) body["ip"] = ip;
        return call("connect", body);
    });
    on_run(disconnect, g, [call] { return call("disconnect", nlohmann::json::object()); });
}

void add_network_commands(CLI::App& app, Globals& g) {
    auto* network = app.add_subcommand("network", "manage networks")->alias("n");
    network->require_subcommand(1);

    add_network_create(network, g);
    add_network_ls(network, g);
    add_inspect_command(network, g, {ObjectKind::Network}, "show networks as json");
    add_network_rm(network, g);
    add_network_join(network, g);
    add_prune_command(network, g, {"/v1/networks/prune", nullptr}, "remove every network no container uses (but the default)");
}

}  // namespace ctr::cli
