// Images in and out of the engine through the Docker API: push to a
// registry (the progress as Docker's JSON lines), get (docker save: one
// archive of the images named) and load (docker load: an archive in the
// request's body, streamed to a file the image plugin reads).
#include "apiserver/docker/docker_api.hpp"
#include "apiserver/image_service.hpp"

#include <ctr/base/strings.hpp>
#include <ctr/pluginhost/call.hpp>
#include <ctr/sys/unique_fd.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

namespace ctr::apiserver::docker {

using nlohmann::json;

namespace {

// Docker's words for our push events.
json push_progress(const json& e) {
    const std::string action = e.value("action", "");
    std::string status = action == "upload" ? "Pushing" : action == "done" ? "Pushed" : action == "exists" ? "Layer already exists" : action;
    json j = {{"status", status}, {"id", e.value("id", "")}};
    if (action == "upload" && e.contains("current") && e.contains("total"))
        j["progressDetail"] = {{"current", e["current"]}, {"total", e["total"]}};
    return j;
}


}  // namespace

// The request's body to a new file of the run directory; its path.
Result<std::filesystem::path> body_to_file(Daemon& d, const Request& req) {
    static std::atomic<int> counter{0};
    auto file = d.paths.run_dir() / ("load-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".tar");
    sys::UniqueFd out(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!out.valid()) return make_error(CTR_E_INTERNAL, "cannot write " + file.string());
    char buf[65536];
    for (;;) {
        long n = req.read_body(buf, sizeof buf);
        if (n < 0) {
            std::error_code ec;
            std::filesystem::remove(file, ec);
            return make_error(CTR_E_INVALID_ARGUMENT, "the client ended the archive early");
        }
        if (n == 0) break;
        for (long done = 0; done < n;) {
            ssize_t w = ::write(out.get(), buf + done, static_cast<size_t>(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                std::error_code ec;
                std::filesystem::remove(file, ec);
                return make_error(CTR_E_RESOURCE_EXHAUSTED, "writing the archive: " + std::string(std::strerror(errno)));
            }
            done += w;
        }
    }
    return file;
}

json registry_auth_of(const Request& req) {
    auto it = req.headers.find("x-registry-auth");
    if (it == req.headers.end() || it->second.empty()) return nullptr;
    auto text = ctr::base64_decode(it->second);
    json j = text ? json::parse(*text, nullptr, false) : json();
    if (!j.is_object() || j.value("username", "").empty()) return nullptr;
    return {{"username", j.value("username", "")}, {"password", j.value("password", "")}};
}

void add_image_transfer_routes(Router& r, Daemon& d) {
    r.add("POST", "/images/{name*}/push", [&d](const Request& req) -> Result<Reply> {
        auto* p = CTR_TRY(d.image_plugin());
        if (!p->image()->push) return make_error(CTR_E_UNIMPLEMENTED, "the image plugin cannot push");
        std::string reference = req.param("name");
        if (auto tag = req.query.find("tag"); tag != req.query.end() && !tag->second.empty()) reference += ":" + tag->second;
        json push = {{"reference", reference}};
        json auth = registry_auth_of(req);
        if (auth.is_null() && d.auth_for) auth = d.auth_for(reference);
        if (!auth.is_null()) push["auth"] = auth;
        Reply reply;
        reply.content_type = "application/json";
        reply.stream = [&d, p, push, reference](const Writer& write) {
            std::atomic<bool> gone{false};
            std::mutex mu;  // blobs are pushed from several threads
            auto line = [&](const json& j) {
                std::lock_guard<std::mutex> lock(mu);
                if (!gone && !write(j.dump() + "\r\n")) gone = true;
            };
            line({{"status", "The push refers to repository [" + reference.substr(0, reference.rfind(':')) + "]"}});
            auto result = pluginhost::invoke_with_progress(
                p->image()->push, "push", p->instance(), push, [&](const json& e) { line(push_progress(e)); },
                [&] { return gone.load() || d.stopping.load(); });
            if (!result) {
                line({{"errorDetail", {{"message", result.error().message}}}, {"error", result.error().message}});
                return;
            }
            d.events.publish("image", "push", reference, {{"name", reference}});
            const std::string tag = reference.substr(reference.rfind(':') + 1);
            line({{"status", tag + ": digest: " + result->value("digest", "") + " size: 0"}});
            line({{"progressDetail", json::object()}, {"aux", {{"Tag", tag}, {"Digest", result->value("digest", "")}, {"Size", 0}}}});
        };
        return reply;
    });
    auto get = [&d](const std::vector<std::string>& names) -> Result<Reply> {
        if (names.empty()) return make_error(CTR_E_INVALID_ARGUMENT, "names: at least one image is needed");
        std::vector<std::string> refs;
        for (const auto& n : names) refs.push_back(CTR_TRY(image_reference_of(d, n)));
        Reply reply;
        reply.content_type = "application/x-tar";
        auto saved = save_images(d, refs);
        if (!saved && saved.error().status == CTR_E_NOT_FOUND) return make_error(CTR_E_NOT_FOUND, "No such image: " + names.front());
        reply.stream = CTR_TRY(std::move(saved));
        return reply;
    };
    r.add("GET", "/images/get", [get](const Request& req) { return get(query_values(req.raw_query, "names")); });
    r.add("GET", "/images/{name*}/get", [get](const Request& req) { return get({req.param("name")}); });
    r.add_streaming("POST", "/images/load", [&d](const Request& req) -> Result<Reply> {
        auto file = CTR_TRY(body_to_file(d, req));
        auto loaded = load_images(d, file.string());
        std::error_code ec;
        std::filesystem::remove(file, ec);
        CTR_TRY(loaded);
        std::string text;
        for (const auto& ref : loaded->value("loaded", json::array()))
            text += json{{"stream", "Loaded image: " + (ref.is_string() ? ref.get<std::string>() : ref.value("reference", "")) + "\n"}}.dump() + "\r\n";
        Reply reply;
        reply.content_type = "application/json";
        reply.text = text;
        return reply;
    });
}

}  // namespace ctr::apiserver::docker
