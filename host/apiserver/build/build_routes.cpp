// POST /v1/build: a JSON body (see BuildRequest), answered with JSON lines
// of progress and a last {"result"} or {"error"}. GET /v1/builder/du and
// POST /v1/builder/prune: the step cache.
#include "apiserver/build/build_routes.hpp"
#include "apiserver/build/context_archive.hpp"

namespace ctr::apiserver::build {

using nlohmann::json;

void add_build_routes(Router& r, Daemon& d, Builder& builder) {
    // Streaming: it reads its own body, which may hold a Dockerfile past the
    // 1 MiB other requests are held to (up to BuildRequest's 4 MiB).
    r.add_streaming("POST", "/v1/build", [&d, &builder](const Request& req) -> Result<Reply> {
        std::string text;
        char buf[65536];
        for (long n; (n = req.read_body(buf, sizeof buf)) != 0;) {
            if (n < 0) return make_error(CTR_E_INVALID_ARGUMENT, "build: the request body ended early");
            text.append(buf, static_cast<size_t>(n));
            if (text.size() > (size_t{5} << 20)) return make_error(CTR_E_INVALID_ARGUMENT, "build: the request is over 5 MiB");
        }
        json body = json::parse(text, nullptr, false);
        if (body.is_discarded()) return make_error(CTR_E_INVALID_ARGUMENT, "build: the request body is not JSON");
        auto request = CTR_TRY(BuildRequest::from_json(body));
        // The context as a tar the client wrote (`build -` with a tar on stdin).
        std::shared_ptr<UnpackedContext> unpacked;
        if (body.contains("context_tar")) {
            const json& tar = body["context_tar"];
            if (!tar.is_string() || !std::filesystem::path(tar.get<std::string>()).is_absolute())
                return make_error(CTR_E_INVALID_ARGUMENT, "build: context_tar must be an absolute file path");
            const json& name = body.value("dockerfile_path", json(""));
            if (!name.is_string()) return make_error(CTR_E_INVALID_ARGUMENT, "build: dockerfile_path must be a string");
            unpacked = CTR_TRY(unpack_context(d.paths.lib_dir(), tar.get<std::string>(), name.get<std::string>()));
            request.context = unpacked->dir.string();
            request.dockerfile = unpacked->dockerfile;
            request.dockerfile_name = unpacked->dockerfile_name;
            request.ignore = unpacked->ignore;
        }
        Reply reply;
        reply.stream = [&d, &builder, request, unpacked](const Writer& write) {
            std::atomic<bool> gone{false};
            Progress line = [&](const json& j) {
                if (!gone && !write(j.dump() + "\n")) gone = true;
            };
            auto result = builder.build(request, line, gone);
            if (result) {
                for (const auto& t : (*result)["tags"]) d.events.publish("image", "build", t.get<std::string>(), {{"name", t}});
                line({{"result", *result}});
            } else {
                line({{"error", {{"message", result.error().message}, {"code", result.error().status}}}});
            }
        };
        return reply;
    });
    r.add("GET", "/v1/builder/du", [&builder](const Request&) -> Result<Reply> { return json_reply(builder.usage()); });
    r.add("POST", "/v1/builder/prune", [&builder](const Request& req) -> Result<Reply> {
        int64_t keep = -1;
        if (auto it = req.query.find("keep_storage"); it != req.query.end()) {
            const std::string& v = it->second;
            if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
                return make_error(CTR_E_INVALID_ARGUMENT, "keep_storage \"" + v + "\": want a number of bytes");
            keep = std::stoll(v);
        }
        return json_reply(builder.prune(keep));
    });
}

}  // namespace ctr::apiserver::build
