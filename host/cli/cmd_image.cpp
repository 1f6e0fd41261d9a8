// `container image pull|ls|rm|inspect` (alias `i`).
#include "cli/app.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"

#include "base/strings.hpp"
#include "base/units.hpp"

#include <cstdio>

namespace ctr::cli {


// Pulls through the daemon, rendering progress; shared with run/create.
Result<nlohmann::json> pull_image(api::Client& client, const std::string& reference, const std::string& platform,
                                  int max_downloads, const std::string& progress_mode) {
    nlohmann::json body = {{"reference", reference}};
    if (!platform.empty()) body["platform"] = platform;
    if (max_downloads > 0) body["max_concurrent_downloads"] = max_downloads;
    // The stream is JSON lines; this client sends the body with the request.
    Progress progress(progress_mode);
    std::string pending;
    nlohmann::json result;
    Error failure;
    bool failed = false;
    auto st = client.stream_post("/v1/images/pull", body, [&](std::string_view data) {
        pending.append(data);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
            auto j = nlohmann::json::parse(pending.substr(0, nl), nullptr, false);
            pending.erase(0, nl + 1);
            if (!j.is_object()) continue;
            if (j.contains("result")) result = j["result"];
            else if (j.contains("error")) {
                failed = true;
                failure = Error{j["error"].value("code", int32_t{CTR_E_INTERNAL}), j["error"].value("message", "pull failed"), 0};
            } else progress.event(j);
        }
        return true;
    });
    progress.finish();
    if (!st) return st.error();
    if (failed) return failure;
    if (result.is_null()) return make_error(CTR_E_UNAVAILABLE, "the API server ended the pull without a result");
    return result;
}

void add_image_commands(CLI::App& app, Globals& g) {
    auto* image = app.add_subcommand("image", "manage images")->alias("i");
    image->require_subcommand(1);

    auto* pull = image->add_subcommand("pull", "pull an image from a registry");
    static std::string ref, platform, progress = "auto";
    static int max_downloads = 0;
    pull->add_option("reference", ref, "image reference, e.g. docker.io/library/busybox:latest")->required();
    pull->add_option("--platform", platform, "os/arch[/variant] (default: this host's)");
    pull->add_option("--max-concurrent-downloads", max_downloads, "layers downloaded at once")->check(CLI::Range(1, 32));
    pull->add_option("--progress", progress, "auto, plain or none")->check(CLI::IsMember({"auto", "plain", "none"}));
    on_run(pull, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = pull_image(*client, ref, platform, max_downloads, progress);
        if (!r) return fail(r.error());
        std::printf("%s\n%s\n", (*r)["reference"].get<std::string>().c_str(), (*r)["digest"].get<std::string>().c_str());
        return 0;
    });

    auto* ls = image->add_subcommand("ls", "list images")->alias("list");
    static ListFlags lf;
    add_list_flags(ls, lf);
    on_run(ls, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = client->call("GET", "/v1/images");
        if (!r) return fail(r.error());
        if (lf.quiet) {
            for (const auto& i : *r) std::printf("%s\n", i["reference"].get<std::string>().c_str());
        } else if (lf.format == "json") {
            print_json(*r);
        } else {
            std::vector<std::vector<std::string>> rows;
            for (const auto& i : *r) {
                std::string full = i["reference"];
                auto colon = full.rfind(':');
                std::string name = full.substr(0, colon), tag = colon == std::string::npos ? "" : full.substr(colon + 1);
                rows.push_back({name, tag, i["digest"].get<std::string>().substr(7, 12), human_size(i["size"].get<int64_t>())});
            }
            std::fputs(render_table({"NAME", "TAG", "DIGEST", "SIZE"}, rows).c_str(), stdout);
        }
        return 0;
    });

    auto* inspect = image->add_subcommand("inspect", "show images in detail, as json");
    static std::vector<std::string> refs;
    inspect->add_option("reference", refs, "image references")->required();
    on_run(inspect, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        nlohmann::json arr = nlohmann::json::array();
        int rc = 0;
        for (const auto& r : refs) {
            auto res = client->call("GET", "/v1/images/inspect?reference=" + url_escape(r));
            if (!res) rc = fail(res.error());
            else arr.push_back(*res);
        }
        if (!arr.empty()) print_json(arr);
        return rc;
    });

    auto* prune = image->add_subcommand("prune", "remove images; -a: every image no container uses");
    static bool prune_all = false;
    prune->add_flag("-a,--all", prune_all, "remove every image no container was made from");
    on_run(prune, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = client->call("POST", std::string("/v1/images/prune") + (prune_all ? "?all=1" : ""));
        if (!r) return fail(r.error());
        for (const auto& name : (*r)["removed"]) std::printf("%s\n", name.get<std::string>().c_str());
        return 0;
    });

    auto* rm = image->add_subcommand("rm", "remove images (and the content only they used)")->alias("delete");
    static std::vector<std::string> rm_refs;
    rm->add_option("reference", rm_refs, "image references")->required();
    on_run(rm, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        int rc = 0;
        for (const auto& r : rm_refs) {
            auto res = client->call("DELETE", "/v1/images?reference=" + url_escape(r));
            if (!res) rc = fail(res.error());
            else std::printf("%s\n", (*res)["reference"].get<std::string>().c_str());
        }
        return rc;
    });
}

}  // namespace ctr::cli
