// `container registry login|logout|ls` (alias `r`).
#include "cli/app.hpp"
#include "cli/output.hpp"

#include <cstdio>
#include <iostream>
#include <termios.h>
#include <unistd.h>

namespace ctr::cli {

namespace {

// A line from stdin; without echo when stdin is a terminal.
std::string read_secret(const char* prompt) {
    bool tty = isatty(STDIN_FILENO) == 1;
    termios old{};
    if (tty) {
        std::fprintf(stderr, "%s", prompt);
        tcgetattr(STDIN_FILENO, &old);
        termios quiet = old;
        quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        std::fprintf(stderr, "\n");
    }
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
}

}  // namespace

void add_registry_commands(CLI::App& app, Globals& g) {
    auto* registry = app.add_subcommand("registry", "manage registry logins")->alias("r");
    registry->require_subcommand(1);

    auto* login = registry->add_subcommand("login", "store a login for a registry (used by pulls from it)");
    static std::string server, username, password;
    static bool password_stdin = false;
    login->add_option("server", server, "registry host, e.g. registry.example.com:5000")->required();
    login->add_option("-u,--username", username, "user name");
    login->add_option("-p,--password", password, "password (prefer --password-stdin)");
    login->add_flag("--password-stdin", password_stdin, "read the password from stdin");
    on_run(login, g, [&g] {
        if (password_stdin && !password.empty()) return error("login: give --password or --password-stdin, not both");
        if (password_stdin && username.empty()) return error("login: --password-stdin needs --username");
        if (username.empty()) {
            std::fprintf(stderr, "Username: ");
            std::getline(std::cin, username);
        }
        if (password.empty()) password = read_secret(password_stdin ? "" : "Password: ");
        if (username.empty() || password.empty()) return error("login: a username and a password are required");
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = client->call("POST", "/v1/registry/login", {{"server", server}, {"username", username}, {"password", password}});
        if (!r) return fail(r.error());
        std::printf("Login stored for %s\n", (*r)["server"].get<std::string>().c_str());
        return 0;
    });

    auto* logout = registry->add_subcommand("logout", "forget the login for a registry");
    static std::string logout_server;
    logout->add_option("server", logout_server, "registry host")->required();
    on_run(logout, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = client->call("POST", "/v1/registry/logout", {{"server", logout_server}});
        if (!r) return fail(r.error());
        std::printf("Removed login for %s\n", (*r)["server"].get<std::string>().c_str());
        return 0;
    });

    auto* ls = registry->add_subcommand("ls", "list stored logins")->alias("list");
    static ListFlags lf;
    add_list_flags(ls, lf);
    on_run(ls, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = client->call("GET", "/v1/registry");
        if (!r) return fail(r.error());
        if (lf.quiet) {
            for (const auto& l : *r) std::printf("%s\n", l["server"].get<std::string>().c_str());
        } else if (lf.format == "json") {
            print_json(*r);
        } else {
            std::vector<std::vector<std::string>> rows;
            for (const auto& l : *r) rows.push_back({l["server"], l["username"]});
            std::fputs(render_table({"SERVER", "USERNAME"}, rows).c_str(), stdout);
        }
        return 0;
    });
}

}  // namespace ctr::cli
