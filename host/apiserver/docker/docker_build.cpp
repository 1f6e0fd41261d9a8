// POST /build: the classic builder's API, as `docker build` (without
// BuildKit), docker-compose 1.x and docker-py send it. The body is the
// context as a tar (the client applied .dockerignore already); it is
// unpacked, as a hostile archive, into a scratch folder the build reads and
// then removed. The answer is Docker's JSON stream: "Step N/M : ...",
// " ---> Using cache", RUN's output, {"aux":{"ID"}}, "Successfully built".
#include "apiserver/build/build_routes.hpp"
#include "apiserver/build/context_archive.hpp"
#include "apiserver/docker/docker_api.hpp"


namespace ctr::apiserver::docker {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A JSON object given as a query value (buildargs, labels): its strings.
Result<std::map<std::string, std::string>> object_param(const Request& req, const std::string& key) {
    std::map<std::string, std::string> out;
    auto it = req.query.find(key);
    if (it == req.query.end() || it->second.empty()) return out;
    json j = json::parse(it->second, nullptr, false);
    if (!j.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, key + " must be a JSON object");
    for (const auto& [k, v] : j.items())
        if (v.is_string()) out[k] = v.get<std::string>();
    return out;
}

std::string line(const std::string& text) { return json{{"stream", text}}.dump() + "\r\n"; }

}  // namespace

void add_build_route(Router& r, Daemon& d, build::Builder& builder) {
    r.add_streaming("POST", "/build", [&d, &builder](const Request& req) -> Result<Reply> {
        build::BuildRequest b;
        b.tags = query_values(req.raw_query, "t");
        b.target = req.query.count("target") ? req.query.at("target") : "";
        b.no_cache = req.flag("nocache");
        b.pull = req.flag("pull");
        b.build_args = CTR_TRY(object_param(req, "buildargs"));
        b.labels = CTR_TRY(object_param(req, "labels"));
        std::string dockerfile = req.query.count("dockerfile") && !req.query.at("dockerfile").empty() ? req.query.at("dockerfile") : "Dockerfile";
        if (req.query.count("remote") && !req.query.at("remote").empty())
            return make_error(CTR_E_UNSUPPORTED, "remote build contexts are not supported: send the context as the body");
        auto tar = CTR_TRY(body_to_file(d, req));
        auto unpacked = build::unpack_context(d.paths.lib_dir(), tar, dockerfile);
        std::error_code ec;
        fs::remove(tar, ec);
        if (!unpacked) return unpacked.error();
        auto scratch = *unpacked;
        b.dockerfile = scratch->dockerfile;
        b.dockerfile_name = scratch->dockerfile_name;
        b.context = scratch->dir.string();
        // The client applied .dockerignore already.
        const bool quiet = req.flag("q");
        Reply reply;
        reply.content_type = "application/json";
        reply.stream = [&d, &builder, b, scratch, quiet](const Writer& write) {
            std::atomic<bool> gone{false};
            auto send = [&](const std::string& text) {
                if (!gone && !write(text)) gone = true;
            };
            build::Progress progress = [&](const json& j) {
                if (j.contains("tick")) return send("\r\n");  // whitespace between objects: a client that left is noticed
                if (quiet) return;
                if (j.contains("step")) send(line("Step " + std::to_string(j.value("step", 0)) + "/" + std::to_string(j.value("of", 0)) + " : " + j.value("instruction", "") + "\n"));
                else if (j.contains("cached")) send(line(" ---> Using cache\n"));
                else if (j.contains("output")) send(line(j["output"].get<std::string>()));
            };
            auto result = builder.build(b, progress, gone);
            if (!result) {
                const std::string m = result.error().message;
                send(json{{"errorDetail", {{"message", m}}}, {"error", m}}.dump() + "\r\n");
                return;
            }
            const std::string id = result->value("id", "");
            send(json{{"aux", {{"ID", id}}}}.dump() + "\r\n");
            // Quiet, the ID is the one line the client prints.
            send(line(quiet ? id + "\n" : "Successfully built " + id.substr(id.rfind(':') + 1, 12) + "\n"));
            for (const auto& t : (*result)["tags"]) {
                d.events.publish("image", "tag", t.get<std::string>(), {{"name", t}});
                if (!quiet) send(line("Successfully tagged " + t.get<std::string>() + "\n"));
            }
        };
        return reply;
    });
}

}  // namespace ctr::apiserver::docker
