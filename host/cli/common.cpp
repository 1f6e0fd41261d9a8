#include "cli/app.hpp"
#include "cli/output.hpp"

#include <ctr/sys/userns.hpp>

#include <cstdio>
#include <unistd.h>

namespace ctr::cli {

Result<api::Client> daemon_client(const Globals& g) {
    Paths paths = g.paths();
    bool started = CTR_TRY(api::ensure_daemon(paths, g.debug));
    if (started) {
        bool rootless = ::geteuid() != 0;
        std::fprintf(stderr, "container: started the API server for root %s%s\n", paths.root().c_str(), rootless ? " (rootless)" : "");
        if (rootless)
            if (auto w = sys::single_id_warning(); !w.empty()) std::fprintf(stderr, "container: warning: %s\n", w.c_str());
    }
    return api::Client(api::socket_path(paths));
}

api::Client existing_daemon(const Globals& g) { return api::Client(api::socket_path(g.paths())); }

void add_list_flags(CLI::App* cmd, ListFlags& flags) {
    cmd->add_option("--format", flags.format, "table, json, or a Go template over docker's fields ('table {{.ID}}\\t{{.Names}}')");
    cmd->add_flag("-q,--quiet", flags.quiet, "print names or ids only");
    cmd->add_option("-f,--filter", flags.filters, "KEY=VALUE, as docker's (the same key again: either; different keys: both)");
    cmd->add_flag("--no-trunc", flags.no_trunc, "print whole ids and commands");
}

int fail(const Error& e) { return error(e.message); }

void print_warnings(const nlohmann::json& reply) {
    if (!reply.is_object() || !reply.contains("warnings") || !reply["warnings"].is_array()) return;
    for (const auto& w : reply["warnings"])
        if (w.is_string()) std::fprintf(stderr, "container: warning: %s\n", w.get<std::string>().c_str());
}

Result<nlohmann::json> key_values(const std::vector<std::string>& items, const std::string& what) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& item : items) {
        auto eq = item.find('=');
        if (eq == std::string::npos || eq == 0)
            return make_error(CTR_E_INVALID_ARGUMENT, what + ": \"" + item + "\" is not key=value");
        out[item.substr(0, eq)] = item.substr(eq + 1);
    }
    return out;
}

}  // namespace ctr::cli
