// `diff` and `commit`: a container's writes listed as docker lists them
// ("C /etc", "A /etc/motd", "D /bin/vi"), or stored as a new image.
#include "cli/app.hpp"
#include "cli/output.hpp"

#include <ctr/base/strings.hpp>

#include <cstdio>

namespace ctr::cli {

using nlohmann::json;

namespace {

int diff(const Globals& g, const std::string& name, const std::string& format) {
    if (!format.empty() && format != "json") return error("--format \"" + format + "\": diff prints json or its own lines");
    auto client = daemon_client(g);
    if (!client) return fail(client.error());
    auto r = client->call("GET", "/v1/containers/" + url_escape(name) + "/changes");
    if (!r) return fail(r.error());
    if (format == "json") {
        print_json(*r);
        return 0;
    }
    static const char kinds[] = {'C', 'A', 'D'};
    for (const auto& ch : *r) {
        int k = ch.value("Kind", 0);
        std::printf("%c %s\n", k >= 0 && k <= 2 ? kinds[k] : '?', ch.value("Path", "").c_str());
    }
    return 0;
}

struct CommitFlags {
    std::string container, reference, message, author;
    std::vector<std::string> changes;
    bool pause = true;
};

int commit(const Globals& g, const CommitFlags& f) {
    auto client = daemon_client(g);
    if (!client) return fail(client.error());
    json body = {{"reference", f.reference}, {"comment", f.message}, {"author", f.author}, {"changes", f.changes}, {"pause", f.pause}};
    auto r = client->call("POST", "/v1/containers/" + url_escape(f.container) + "/commit", body);
    if (!r) return fail(r.error());
    std::printf("%s\n", r->value("Id", "").c_str());
    return 0;
}

}  // namespace

void add_commit_commands(CLI::App& app, Globals& g) {
    auto* diff_cmd = app.add_subcommand("diff", "list what a container changed in its filesystem: C changed, A added, D deleted");
    static std::string diff_name, diff_format;
    diff_cmd->add_option("container", diff_name, "container")->required();
    diff_cmd->add_option("--format", diff_format, "json: the changes as [{\"Path\", \"Kind\"}] (0 changed, 1 added, 2 deleted)");
    on_run(diff_cmd, g, [&g] { return diff(g, diff_name, diff_format); });

    auto* commit_cmd = app.add_subcommand("commit", "make an image of a container's changes: its image's layers plus one of its writes");
    static CommitFlags f;
    commit_cmd->add_option("container", f.container, "container")->required();
    commit_cmd->add_option("reference", f.reference, "the new image's name: REPOSITORY[:TAG] (none: a nameless image, <none> in image ls)");
    commit_cmd->add_option("-m,--message", f.message, "a comment for the image's history");
    commit_cmd->add_option("-a,--author", f.author, "the image's author (\"Name <mail>\")");
    commit_cmd->add_option("-c,--change", f.changes, "a Dockerfile instruction for the config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR")
        ->allow_extra_args(false);
    commit_cmd->add_flag("-p,--pause", f.pause, "freeze a running container while its layer is written (default true; --pause=false)")
        ->default_val(true);
    on_run(commit_cmd, g, [&g] { return commit(g, f); });
}

}  // namespace ctr::cli
