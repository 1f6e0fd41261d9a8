// `container build` and `container builder du|prune`: the CLI reads the
// Dockerfile and .dockerignore and names the context directory; the daemon
// reads the context where it lies (see docs/build.md).
#include "app.hpp"

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

struct BuildFlags {
    std::vector<std::string> tags, build_args, labels;
    std::string file, target, runtime, progress = "auto", iidfile, context;
    bool no_cache = false, pull = false, quiet = false;
};

Result<std::string> read_text(const std::string& path) {
    std::stringstream ss;
    if (path == "-") {
        ss << std::cin.rdbuf();
        return ss.str();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(CTR_E_NOT_FOUND, "cannot read \"" + path + "\"");
    ss << in.rdbuf();
    return ss.str();
}

Result<json> request_of(const BuildFlags& f) {
    json body = {{"tags", f.tags}, {"target", f.target}, {"no_cache", f.no_cache}, {"pull", f.pull}, {"runtime", f.runtime}};
    std::error_code ec;
    fs::path dockerfile;
    if (f.context == "-") {
        if (!f.file.empty() && f.file != "-") return make_error(CTR_E_INVALID_ARGUMENT, "build -: the Dockerfile comes on stdin; -f cannot name another");
        body["dockerfile"] = CTR_TRY(read_text("-"));
    } else {
        fs::path ctx = fs::absolute(f.context, ec);
        if (!fs::is_directory(ctx, ec)) return make_error(CTR_E_NOT_FOUND, "build context \"" + f.context + "\" is not a directory");
        body["context"] = fs::canonical(ctx, ec).string();
        if (f.file == "-") {
            body["dockerfile"] = CTR_TRY(read_text("-"));
        } else {
            dockerfile = f.file.empty() ? ctx / "Dockerfile" : fs::path(f.file);
            if (f.file.empty() && !fs::exists(dockerfile, ec) && fs::exists(ctx / "Containerfile", ec)) dockerfile = ctx / "Containerfile";
            auto text = read_text(dockerfile.string());
            if (!text) return make_error(CTR_E_NOT_FOUND, "no Dockerfile: cannot read \"" + dockerfile.string() + "\" (-f names another)");
            body["dockerfile"] = *text;
            body["dockerfile_name"] = dockerfile.filename().string();
        }
        // <Dockerfile>.dockerignore beside it first, then the context's.
        std::string ignore;
        if (!dockerfile.empty()) {
            if (auto t = read_text(dockerfile.string() + ".dockerignore")) ignore = *t;
            else if (auto c = read_text((ctx / ".dockerignore").string())) ignore = *c;
        } else if (auto c = read_text((ctx / ".dockerignore").string())) {
            ignore = *c;
        }
        body["ignore"] = ignore;
    }
    json args = json::object();
    for (const auto& a : f.build_args) {
        size_t eq = a.find('=');
        if (eq == 0) return make_error(CTR_E_INVALID_ARGUMENT, "--build-arg \"" + a + "\": want NAME=VALUE or NAME");
        if (eq != std::string::npos) args[a.substr(0, eq)] = a.substr(eq + 1);
        else if (const char* v = std::getenv(a.c_str())) args[a] = v;  // NAME alone: from the environment
    }
    body["build_args"] = args;
    body["labels"] = CTR_TRY(key_values(f.labels, "--label"));
    return body;
}

int run_build(Globals& g, const BuildFlags& f) {
    if (f.progress != "auto" && f.progress != "plain" && f.progress != "tty")
        return fail(make_error(CTR_E_INVALID_ARGUMENT, "--progress \"" + f.progress + "\": want auto, plain or tty"));
    auto body = request_of(f);
    if (!body) return fail(body.error());
    auto client = daemon_client(g);
    if (!client) return fail(client.error());
    json result;
    std::optional<Error> error;
    std::string pending;
    int step = 0;
    auto st = client->stream_post("/v1/build", *body, [&](std::string_view data) {
        pending.append(data);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
            json j = json::parse(pending.substr(0, nl), nullptr, false);
            pending.erase(0, nl + 1);
            if (!j.is_object()) continue;
            if (j.contains("result")) result = j["result"];
            else if (j.contains("error")) error = make_error(static_cast<ctr_status>(j["error"].value("code", 7)), j["error"].value("message", "build failed"));
            else if (f.quiet) continue;
            else if (j.contains("step")) {
                step = j["step"];
                std::fprintf(stderr, "#%d [%d/%d] %s\n", step, step, j.value("of", 0), j.value("instruction", "").c_str());
            } else if (j.contains("cached")) std::fprintf(stderr, "#%d CACHED\n", step);
            else if (j.contains("done")) std::fprintf(stderr, "#%d DONE %.1fs\n", step, j.value("seconds", 0.0));
            else if (j.contains("output")) std::fputs(j["output"].get<std::string>().c_str(), stderr);
        }
        return true;
    });
    if (!st) return fail(st.error());
    if (error) return fail(*error);
    if (!result.is_object()) return fail(make_error(CTR_E_INTERNAL, "the build ended without a result"));
    std::string id = result.value("id", "");
    if (!f.iidfile.empty()) {
        std::ofstream out(f.iidfile, std::ios::trunc);
        out << id;
    }
    if (!f.quiet)
        for (const auto& t : result["tags"]) std::fprintf(stderr, "naming to %s\n", t.get<std::string>().c_str());
    std::printf("%s\n", id.c_str());
    return 0;
}

}  // namespace

void add_build_commands(CLI::App& app, Globals& g) {
    static BuildFlags f;
    auto* build = app.add_subcommand("build", "build an image from a Dockerfile");
    build->add_option("-t,--tag", f.tags, "a name for the image (repeatable)");
    build->add_option("-f,--file", f.file, "the Dockerfile (default CONTEXT/Dockerfile, then Containerfile; - for stdin)");
    build->add_option("--build-arg", f.build_args, "NAME=VALUE for an ARG (NAME alone: from the environment)");
    build->add_option("--label", f.labels, "KEY=VALUE on the image");
    build->add_option("--target", f.target, "the stage to build (default the last)");
    build->add_option("--runtime", f.runtime, "the runtime plugin RUN steps use");
    build->add_option("--progress", f.progress, "auto, plain or tty");
    build->add_option("--iidfile", f.iidfile, "write the image ID to this file");
    build->add_flag("--no-cache", f.no_cache, "run every step, using no cached one");
    build->add_flag("--pull", f.pull, "pull the base images even when stored");
    build->add_flag("-q,--quiet", f.quiet, "print only the image ID");
    build->add_option("context", f.context, "the context directory, or - for a Dockerfile on stdin")->required();
    on_run(build, g, [&g] { return run_build(g, f); });

    auto* builder = app.add_subcommand("builder", "the build cache");
    builder->require_subcommand(1);
    auto* du = builder->add_subcommand("du", "what the build cache holds");
    on_run(du, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = client->call("GET", "/v1/builder/du");
        if (!r) return fail(r.error());
        std::printf("%lld cached steps, %lld bytes\n", static_cast<long long>((*r).value("entries", int64_t{0})),
                    static_cast<long long>((*r).value("size", int64_t{0})));
        return 0;
    });
    auto* prune = builder->add_subcommand("prune", "remove the build cache");
    static bool all = false, force = false;
    prune->add_flag("-a,--all", all, "everything (the only kind there is)");
    prune->add_flag("-f,--force", force, "do not ask");
    on_run(prune, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = client->call("POST", "/v1/builder/prune");
        if (!r) return fail(r.error());
        std::printf("removed %lld cached steps\n", static_cast<long long>((*r).value("removed", int64_t{0})));
        return 0;
    });
}

}  // namespace ctr::cli
