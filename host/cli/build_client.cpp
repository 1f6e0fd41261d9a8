#include "build_client.hpp"

#include "cli/build_progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string_view>

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

// What `build -` got on stdin: an archive (tar, or gzip, bzip2, xz or zstd
// of one) is the context, as docker reads it; anything else a Dockerfile.
bool is_archive(const std::string& b) {
    auto starts = [&b](std::string_view magic) { return b.size() >= magic.size() && b.compare(0, magic.size(), magic) == 0; };
    using namespace std::string_view_literals;
    return starts("\x1f\x8b"sv) || starts("BZh"sv) || starts("\xfd" "7zXZ\x00"sv) || starts("\x28\xb5\x2f\xfd"sv) ||
           (b.size() >= 262 && b.compare(257, 5, "ustar") == 0);
}

// stdin's bytes in a private temporary file (removed by the caller).
Result<std::string> to_temp_file(const std::string& bytes, std::vector<std::string>& cleanup) {
    const char* tmp = std::getenv("TMPDIR");
    std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/container-context-XXXXXX";
    int fd = ::mkstemp(path.data());
    if (fd < 0) return make_error(CTR_E_INTERNAL, "cannot write a temporary file for the context in " + path);
    cleanup.push_back(path);
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
    }
    ::close(fd);
    if (done != bytes.size()) return make_error(CTR_E_INTERNAL, "cannot write the context to " + path);
    return path;
}

Result<json> request_of(const BuildOptions& f, std::vector<std::string>& cleanup) {
    json body = {{"tags", f.tags}, {"target", f.target}, {"no_cache", f.no_cache}, {"pull", f.pull}, {"runtime", f.runtime}, {"platform", f.platform}};
    if (!f.output.empty()) {
        std::string type = "local", dest;
        if (f.output.find('=') == std::string::npos) {
            dest = f.output;
        } else {
            std::stringstream ss(f.output);
            for (std::string part; std::getline(ss, part, ',');) {
                size_t eq = part.find('=');
                std::string k = part.substr(0, eq), v = eq == std::string::npos ? "" : part.substr(eq + 1);
                if (k == "type") type = v;
                else if (k == "dest") dest = v;
                else return make_error(CTR_E_INVALID_ARGUMENT, "-o \"" + f.output + "\": unknown key \"" + k + "\" (type, dest)");
            }
        }
        if (dest.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "-o \"" + f.output + "\": dest=PATH is required");
        std::error_code ec;
        body["output"] = {{"type", type}, {"dest", fs::absolute(dest, ec).lexically_normal().string()}};
    }
    std::error_code ec;
    if (f.context == "-") {
        std::string in = CTR_TRY(read_text("-"));
        if (is_archive(in)) {
            // The context itself: -f names the Dockerfile inside it.
            if (f.file == "-") return make_error(CTR_E_INVALID_ARGUMENT, "build -: the context comes on stdin; -f names a Dockerfile inside it");
            body["context_tar"] = CTR_TRY(to_temp_file(in, cleanup));
            body["dockerfile_path"] = f.file;
            return body;
        }
        if (!f.file.empty() && f.file != "-") return make_error(CTR_E_INVALID_ARGUMENT, "build -: the Dockerfile comes on stdin; -f cannot name another");
        body["dockerfile"] = in;
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

// --secret id=ID,src=FILE | id=ID,env=NAME (| id=ID: the variable ID): a
// file the daemon mounts for the RUNs that ask. An env secret is written to
// a private temporary file, removed when `cleanup` goes.
Result<json> secrets_of(const std::vector<std::string>& specs, std::vector<std::string>& cleanup) {
    json out = json::object();
    for (const auto& spec : specs) {
        std::map<std::string, std::string> o;
        std::stringstream ss(spec);
        for (std::string part; std::getline(ss, part, ',');) {
            size_t eq = part.find('=');
            o[part.substr(0, eq)] = eq == std::string::npos ? "" : part.substr(eq + 1);
        }
        std::string id = o["id"];
        if (id.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "--secret \"" + spec + "\": want id=ID,src=FILE or id=ID,env=NAME");
        std::string src = o.count("src") ? o["src"] : o["source"];
        if (!src.empty()) {
            std::error_code ec;
            fs::path p = fs::absolute(src, ec);
            if (!fs::is_regular_file(p, ec)) return make_error(CTR_E_NOT_FOUND, "--secret " + id + ": no file \"" + src + "\"");
            out[id] = p.string();
            continue;
        }
        std::string var = o.count("env") ? o["env"] : id;
        const char* value = std::getenv(var.c_str());
        if (!value) return make_error(CTR_E_NOT_FOUND, "--secret " + id + ": the variable " + var + " is not set");
        char path[] = "/tmp/container-secret-XXXXXX";
        int fd = ::mkstemp(path);
        if (fd < 0) return make_error(CTR_E_INTERNAL, "--secret " + id + ": cannot write a temporary file");
        cleanup.push_back(path);
        std::string v = value;
        bool written = ::write(fd, v.data(), v.size()) == static_cast<ssize_t>(v.size());
        ::close(fd);
        if (!written) return make_error(CTR_E_INTERNAL, "--secret " + id + ": cannot write a temporary file");
        out[id] = std::string(path);
    }
    return out;
}

}  // namespace

Result<json> build_image(const api::Client& client, const BuildOptions& f, const json& args, const json& labels) {
    struct Cleanup {
        std::vector<std::string> files;
        ~Cleanup() {
            for (const auto& f : files) ::unlink(f.c_str());
        }
    } cleanup;
    json body = CTR_TRY(request_of(f, cleanup.files));
    body["secrets"] = CTR_TRY(secrets_of(f.secrets, cleanup.files));
    body["build_args"] = args;
    body["labels"] = labels;
    json result;
    std::optional<Error> error;
    std::string pending;
    BuildProgress progress(f.progress, f.quiet);
    auto streamed = client.stream_post("/v1/build", body, [&](std::string_view data) {
        pending.append(data);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
            json j = json::parse(pending.substr(0, nl), nullptr, false);
            pending.erase(0, nl + 1);
            if (!j.is_object()) continue;
            if (j.contains("result")) result = j["result"];
            else if (j.contains("error")) error = make_error(static_cast<ctr_status>(j["error"].value("code", 7)), j["error"].value("message", "build failed"));
            else progress.event(j);
        }
        return true;
    });
    progress.finish(!streamed || error.has_value());
    if (!streamed) return streamed.error();
    if (error) return *error;
    if (!result.is_object()) return make_error(CTR_E_INTERNAL, "the build ended without a result");
    if (!f.quiet)
        for (const auto& t : result["tags"]) std::fprintf(stderr, "naming to %s\n", t.get<std::string>().c_str());
    return result;
}

}  // namespace ctr::cli
