// `container system dns create|delete|ls DOMAIN`: running containers
// resolvable from the host as NAME.DOMAIN (apiserver/dns_hosts.hpp).
#include "cli/app.hpp"
#include "cli/output.hpp"

#include <ctr/base/strings.hpp>

namespace ctr::cli {

void add_dns_commands(CLI::App& system, Globals& g) {
    auto* dns = system.add_subcommand("dns", "resolve running containers from the host as NAME.DOMAIN (through the hosts file)");
    dns->require_subcommand(1);

    auto* create = dns->add_subcommand("create", "make the host resolve each running container as NAME.DOMAIN");
    static std::string create_domain;
    create->add_option("DOMAIN", create_domain, "the domain, such as test")->required();
    on_run(create, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = client->call("POST", "/v1/system/dns/" + url_escape(create_domain));
        if (!r) return fail(r.error());
        std::printf("%s\n", create_domain.c_str());
        return 0;
    });

    auto* remove = dns->add_subcommand("delete", "stop resolving NAME.DOMAIN; its entries leave the hosts file")->alias("rm");
    static std::vector<std::string> remove_domains;
    remove->add_option("DOMAIN", remove_domains, "the domains")->required();
    on_run(remove, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        int rc = 0;
        for (const auto& domain : remove_domains) {
            if (auto r = client->call("DELETE", "/v1/system/dns/" + url_escape(domain)); !r) rc = fail(r.error());
            else std::printf("%s\n", domain.c_str());
        }
        return rc;
    });

    auto* ls = dns->add_subcommand("ls", "list the domains")->alias("list");
    static std::string format = "table";
    static bool quiet = false;
    ls->add_option("--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));
    ls->add_flag("-q,--quiet", quiet, "only the domains");
    on_run(ls, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = client->call("GET", "/v1/system/dns");
        if (!r) return fail(r.error());
        if (format == "json") {
            print_json(*r);
            return 0;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& d : *r) {
            if (quiet) std::printf("%s\n", d.value("domain", "").c_str());
            rows.push_back({d.value("domain", ""), d.value("hosts_file", "")});
        }
        if (!quiet) std::fputs(render_table({"DOMAIN", "HOSTS FILE"}, rows).c_str(), stdout);
        return 0;
    });
}

}  // namespace ctr::cli
