// `container build` and `container builder du|prune`: the CLI reads the
// Dockerfile and .dockerignore and names the context directory; the daemon
// reads the context where it lies (see docs/build.md).
#include "app.hpp"
#include "build_client.hpp"
#include "output.hpp"

#include <ctr/base/units.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace ctr::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

int run_build(Globals& g, const BuildOptions& f) {
    if (f.progress != "auto" && f.progress != "plain" && f.progress != "tty")
        return fail(make_error(CTR_E_INVALID_ARGUMENT, "--progress \"" + f.progress + "\": want auto, plain or tty"));
    json args = json::object();
    for (const auto& a : f.build_args) {
        size_t eq = a.find('=');
        if (eq == 0) return fail(make_error(CTR_E_INVALID_ARGUMENT, "--build-arg \"" + a + "\": want NAME=VALUE or NAME"));
        if (eq != std::string::npos) args[a.substr(0, eq)] = a.substr(eq + 1);
        else if (const char* v = std::getenv(a.c_str())) args[a] = v;  // NAME alone: from the environment
    }
    auto labels = key_values(f.labels, "--label");
    if (!labels) return fail(labels.error());
    auto client = daemon_client(g);
    if (!client) return fail(client.error());
    auto built = build_image(*client, f, args, *labels);
    if (!built) return fail(built.error());
    std::string id = built->value("id", "");
    if (!f.iidfile.empty()) {
        std::ofstream out(f.iidfile, std::ios::trunc);
        out << id;
    }
    std::printf("%s\n", id.c_str());
    return 0;
}

}  // namespace

void add_build_commands(CLI::App& app, Globals& g) {
    static BuildOptions f;
    auto* build = app.add_subcommand("build", "build an image from a Dockerfile");
    build->add_option("-t,--tag", f.tags, "a name for the image (repeatable)");
    build->add_option("-f,--file", f.file, "the Dockerfile (default CONTEXT/Dockerfile, then Containerfile; - for stdin)");
    build->add_option("--build-arg", f.build_args, "NAME=VALUE for an ARG (NAME alone: from the environment)");
    build->add_option("--label", f.labels, "KEY=VALUE on the image");
    build->add_option("--secret", f.secrets, "id=ID,src=FILE or id=ID,env=NAME: for RUN --mount=type=secret (never stored)");
    build->add_option("--target", f.target, "the stage to build (default the last)");
    build->add_option("--runtime", f.runtime, "the runtime plugin RUN steps use");
    build->add_option("--progress", f.progress, "auto, plain or tty");
    build->add_option("--platform", f.platform, "the platform to build for (only this host's, linux/amd64)");
    build->add_option("-o,--output", f.output, "type=oci|tar|local,dest=PATH: also write the result there (a bare PATH: local)");
    build->add_option("--iidfile", f.iidfile, "write the image ID to this file");
    build->add_flag("--no-cache", f.no_cache, "run every step, using no cached one");
    build->add_flag("--pull", f.pull, "pull the base images even when stored");
    build->add_flag("-q,--quiet", f.quiet, "print only the image ID");
    build->add_option("context", f.context, "the context directory, or - for a Dockerfile on stdin")->required();
    on_run(build, g, [&g] { return run_build(g, f); });

    auto* builder = app.add_subcommand("builder", "the build cache");
    builder->require_subcommand(1);
    auto* du = builder->add_subcommand("du", "what the build cache holds");
    static std::string du_format;
    du->add_option("--format", du_format, "json: {\"entries\", \"size\", \"own\"} in bytes");
    on_run(du, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = client->call("GET", "/v1/builder/du");
        if (!r) return fail(r.error());
        if (du_format == "json") {
            print_json(*r);
            return 0;
        }
        if (!du_format.empty()) return fail(make_error(CTR_E_INVALID_ARGUMENT, "--format \"" + du_format + "\": want json"));
        // Each layer once; what a prune would free apart from what images share.
        std::printf("%lld cached steps, %s (%s of their own; the rest is shared with images)\n",
                    static_cast<long long>((*r).value("entries", int64_t{0})), human_size((*r).value("size", int64_t{0})).c_str(),
                    human_size((*r).value("own", int64_t{0})).c_str());
        return 0;
    });
    auto* prune = builder->add_subcommand("prune", "remove the build cache");
    static bool all = false, force = false;
    static std::string keep_storage;
    prune->add_flag("-a,--all", all, "everything (the only kind there is)");
    prune->add_flag("-f,--force", force, "do not ask");
    prune->add_option("--keep-storage", keep_storage, "keep the newest cached steps that fit in SIZE (512m, 2g)");
    on_run(prune, g, [&g] {
        std::string target = "/v1/builder/prune";
        if (!keep_storage.empty()) {
            auto bytes = parse_size(keep_storage, "--keep-storage");
            if (!bytes) return fail(bytes.error());
            target += "?keep_storage=" + std::to_string(*bytes);
        }
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = client->call("POST", target);
        if (!r) return fail(r.error());
        std::printf("removed %lld cached steps\nTotal reclaimed space: %s\n", static_cast<long long>((*r).value("removed", int64_t{0})),
                    human_size((*r).value("size", int64_t{0})).c_str());
        return 0;
    });
}

}  // namespace ctr::cli
