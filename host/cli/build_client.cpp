#include "build_client.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace ctr::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

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

Result<json> request_of(const BuildOptions& f) {
    json body = {{"tags", f.tags}, {"target", f.target}, {"no_cache", f.no_cache}, {"pull", f.pull}, {"runtime", f.runtime}};
    std::error_code ec;
    if (f.context == "-") {
        if (!f.file.empty() && f.file != "-") return make_error(CTR_E_INVALID_ARGUMENT, "build -: the Dockerfile comes on stdin; -f cannot name another");
        body["dockerfile"] = CTR_TRY(read_text("-"));
        return body;
    }
    fs::path ctx = fs::absolute(f.context, ec);
    if (!fs::is_directory(ctx, ec)) return make_error(CTR_E_NOT_FOUND, "build context \"" + f.context + "\" is not a directory");
    body["context"] = fs::canonical(ctx, ec).string();
    fs::path dockerfile;
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
    if (auto t = dockerfile.empty() ? Result<std::string>(make_error(CTR_E_NOT_FOUND, "")) : read_text(dockerfile.string() + ".dockerignore")) ignore = *t;
    else if (auto c = read_text((ctx / ".dockerignore").string())) ignore = *c;
    body["ignore"] = ignore;
    return body;
}

}  // namespace

Result<json> build_image(const api::Client& client, const BuildOptions& f, const json& args, const json& labels) {
    json body = CTR_TRY(request_of(f));
    body["build_args"] = args;
    body["labels"] = labels;
    json result;
    std::optional<Error> error;
    std::string pending;
    int step = 0;
    CTR_TRY_STATUS(client.stream_post("/v1/build", body, [&](std::string_view data) {
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
    }));
    if (error) return *error;
    if (!result.is_object()) return make_error(CTR_E_INTERNAL, "the build ended without a result");
    if (!f.quiet)
        for (const auto& t : result["tags"]) std::fprintf(stderr, "naming to %s\n", t.get<std::string>().c_str());
    return result;
}

}  // namespace ctr::cli
