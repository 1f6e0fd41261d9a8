// `container image pull|ls|rm|inspect` (alias `i`).
#include "cli/app.hpp"
#include "cli/listing.hpp"
#include "cli/inspect.hpp"
#include "cli/output.hpp"
#include "cli/prune.hpp"
#include "cli/progress.hpp"

#include <ctr/base/strings.hpp>
#include <ctr/base/units.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>
#include <unistd.h>

namespace ctr::cli {


// Pulls through the daemon, rendering progress; shared with run/create.
namespace {

// The daemon reads files on this machine (its socket is local and root's):
// a path becomes absolute; stdin ("-") goes to a temporary file first,
// removed when this goes.
struct LocalInput {
    std::string path;
    bool temporary = false;
    LocalInput() = default;
    LocalInput(LocalInput&& o) noexcept : path(std::move(o.path)), temporary(std::exchange(o.temporary, false)) {}
    ~LocalInput() {
        if (temporary) std::remove(path.c_str());
    }
};

Result<LocalInput> local_input(const std::string& given) {
    LocalInput in;
    if (given != "-") {
        std::error_code ec;
        in.path = std::filesystem::absolute(given, ec).string();
        return in;
    }
    in.path = (std::filesystem::temp_directory_path() / "container-input-XXXXXX").string();
    int fd = ::mkstemp(in.path.data());
    if (fd < 0) return make_error(CTR_E_INTERNAL, std::string("temporary file: ") + std::strerror(errno));
    in.temporary = true;
    char buf[1 << 16];
    ssize_t n;
    while ((n = ::read(STDIN_FILENO, buf, sizeof buf)) > 0)
        if (::write(fd, buf, static_cast<size_t>(n)) != n) {
            ::close(fd);
            return make_error(CTR_E_INTERNAL, "temporary file: write failed");
        }
    ::close(fd);
    return in;
}

// Pull and push answer a stream of JSON lines: progress events, then
// {"result"} or {"error"}.
Result<nlohmann::json> with_progress(const api::Client& client, const std::string& route, const nlohmann::json& body,
                                     const std::string& progress_mode, const char* what) {
    Progress progress(progress_mode);
    std::string pending;
    nlohmann::json result;
    Error failure;
    bool failed = false;
    auto st = client.stream_post(route, body, [&](std::string_view data) {
        pending.append(data);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
            auto j = nlohmann::json::parse(pending.substr(0, nl), nullptr, false);
            pending.erase(0, nl + 1);
            if (!j.is_object()) continue;
            if (j.contains("result")) result = j["result"];
            else if (j.contains("error")) {
                failed = true;
                failure = Error{j["error"].value("code", int32_t{CTR_E_INTERNAL}), j["error"].value("message", std::string(what) + " failed"), 0};
            } else progress.event(j);
        }
        return true;
    });
    progress.finish();
    if (!st) return st.error();
    if (failed) return failure;
    if (result.is_null()) return make_error(CTR_E_UNAVAILABLE, std::string("the API server ended the ") + what + " without a result");
    return result;
}

}  // namespace

Result<nlohmann::json> pull_image(const api::Client& client, const std::string& reference, const std::string& platform,
                                  int max_downloads, const std::string& progress_mode) {
    nlohmann::json body = {{"reference", reference}};
    if (!platform.empty()) body["platform"] = platform;
    if (max_downloads > 0) body["max_concurrent_downloads"] = max_downloads;
    return with_progress(client, "/v1/images/pull", body, progress_mode, "pull");
}

static void add_image_pull(CLI::App* image, Globals& g) {
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
}

static void add_image_ls(CLI::App* image, Globals& g) {
    auto* ls = image->add_subcommand("ls", "list images")->alias("list");
    static ListFlags lf;
    add_list_flags(ls, lf);
    on_run(ls, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        ListSource src{"/v1/images", "/v1/docker/images/json", "digest", "Id", ""};
        return run_listing(*client, src, lf, image_kind(), [](const nlohmann::json& items) {
        // A nameless image (a commit without a name, a build without -t) is
        // <none> <none>, and -q gives its id, which every command takes.
        auto id_of = [](const nlohmann::json& i) { return i.value("digest", "").substr(7, 12); };
        if (lf.quiet) {
            for (const auto& i : items) std::printf("%s\n", i.value("dangling", false) ? id_of(i).c_str() : i["reference"].get<std::string>().c_str());
        } else if (lf.format == "json") {
            print_json(items);
        } else {
            std::vector<std::vector<std::string>> rows;
            for (const auto& i : items) {
                std::string full = i["reference"];
                auto colon = full.rfind(':');
                std::string name = full.substr(0, colon), tag = colon == std::string::npos ? "" : full.substr(colon + 1);
                if (i.value("dangling", false)) name = tag = "<none>";
                rows.push_back({name, tag, i["digest"].get<std::string>().substr(7, 12), human_size(i["size"].get<int64_t>())});
            }
            std::fputs(render_table({"NAME", "TAG", "DIGEST", "SIZE"}, rows).c_str(), stdout);
        }
        });
    });
}



static void add_image_rm(CLI::App* image, Globals& g) {
    auto* rm = image->add_subcommand("rm", "remove images (and the content only they used)")->alias("delete");
    static std::vector<std::string> rm_refs;
    rm->add_option("reference", rm_refs, "image references");
    static bool rm_force = false, rm_all = false;
    rm->add_flag("-f,--force", rm_force, "remove the name even when a container was made from the image");
    rm->add_flag("-a,--all", rm_all, "every image (with -f, those containers were made from too)");
    on_run(rm, g, [&g] {
        if (rm_all == !rm_refs.empty()) return error("image rm: give image references or --all, not both or neither");
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        if (rm_all) {
            auto list = client->call("GET", "/v1/images");
            if (!list) return fail(list.error());
            for (const auto& i : *list) rm_refs.push_back(i.value("reference", ""));
        }
        int rc = 0;
        for (const auto& r : rm_refs) {
            auto res = client->call("DELETE", "/v1/images?reference=" + url_escape(r) + (rm_force ? "&force=1" : ""));
            if (!res) rc = fail(res.error());
            else std::printf("%s\n", (*res)["reference"].get<std::string>().c_str());
        }
        return rc;
    });
}

static void add_image_push(CLI::App* image, Globals& g) {
    auto* push = image->add_subcommand("push", "upload an image to the registry its name points at");
    static std::string push_ref, push_progress = "auto";
    push->add_option("reference", push_ref, "an image in the store, named for its registry (see image tag)")->required();
    push->add_option("--progress", push_progress, "auto, plain or none")->check(CLI::IsMember({"auto", "plain", "none"}));
    on_run(push, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = with_progress(*client, "/v1/images/push", {{"reference", push_ref}}, push_progress, "push");
        if (!r) return fail(r.error());
        std::printf("%s\n%s\n", (*r)["reference"].get<std::string>().c_str(), (*r)["digest"].get<std::string>().c_str());
        return 0;
    });
}

static void add_image_import(CLI::App* image, Globals& g) {
    auto* import = image->add_subcommand("import", "make a one-layer image from a root filesystem tarball (- for stdin)");
    static std::string import_file, import_ref;
    import->add_option("file", import_file, "a tar, tar.gz or tar.zst of a root filesystem, or - for stdin")->required();
    import->add_option("reference", import_ref, "the new image's name")->required();
    on_run(import, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto input = local_input(import_file);
        if (!input) return fail(input.error());
        auto r = client->call("POST", "/v1/images/import", {{"input", input->path}, {"reference", import_ref}});
        if (!r) return fail(r.error());
        std::printf("%s\n%s\n", (*r)["reference"].get<std::string>().c_str(), (*r)["digest"].get<std::string>().c_str());
        return 0;
    });
}

static void add_image_tag(CLI::App* image, Globals& g) {
    auto* tag = image->add_subcommand("tag", "give an image another name");
    static std::string tag_source, tag_target;
    tag->add_option("source", tag_source, "an image in the store")->required();
    tag->add_option("target", tag_target, "the new name")->required();
    on_run(tag, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        auto r = client->call("POST", "/v1/images/tag", {{"source", tag_source}, {"target", tag_target}});
        if (!r) return fail(r.error());
        std::printf("%s\n", (*r)["reference"].get<std::string>().c_str());
        return 0;
    });
}

static void add_image_save(CLI::App* image, Globals& g) {
    auto* save = image->add_subcommand("save", "write images as an OCI archive (a tar), to a file or stdout");
    static std::vector<std::string> save_refs;
    static std::string save_output;
    save->add_option("reference", save_refs, "image references")->required();
    save->add_option("-o,--output", save_output, "the file to write (default: stdout)");
    on_run(save, g, [&g] {
        if (save_output.empty() && ::isatty(STDOUT_FILENO)) return error("refusing to write an archive to a terminal: give -o FILE or redirect stdout");
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        std::string tmp = save_output.empty() ? "" : save_output + ".tmp-" + std::to_string(::getpid());
        std::FILE* out = save_output.empty() ? stdout : std::fopen(tmp.c_str(), "wb");
        if (!out) return error("-o \"" + save_output + "\": " + std::strerror(errno));
        bool write_failed = false;
        auto st = client->stream_post("/v1/images/save", {{"references", save_refs}}, [&](std::string_view data) {
            if (std::fwrite(data.data(), 1, data.size(), out) != data.size()) write_failed = true;
            return !write_failed;
        });
        if (out != stdout && std::fclose(out) != 0) write_failed = true;
        if (!st || write_failed) {
            if (!tmp.empty()) std::remove(tmp.c_str());
            return st ? error("write \"" + (save_output.empty() ? std::string("stdout") : save_output) + "\" failed") : fail(st.error());
        }
        if (!tmp.empty() && std::rename(tmp.c_str(), save_output.c_str()) != 0) return error("-o \"" + save_output + "\": " + std::strerror(errno));
        return 0;
    });
}

static void add_image_load(CLI::App* image, Globals& g) {
    auto* load = image->add_subcommand("load", "read images from an OCI archive or a docker save archive");
    static std::string load_input;
    load->add_option("-i,--input", load_input, "the archive (default: stdin)");
    on_run(load, g, [&g] {
        auto client = daemon_client(g);
        if (!client) return fail(client.error());
        if (load_input.empty() && ::isatty(STDIN_FILENO)) return error("give -i FILE, or an archive on stdin");
        auto input = local_input(load_input.empty() ? "-" : load_input);
        if (!input) return fail(input.error());
        auto r = client->call("POST", "/v1/images/load", {{"input", input->path}});
        if (!r) return fail(r.error());
        for (const auto& name : (*r)["loaded"]) std::printf("Loaded image: %s\n", name.get<std::string>().c_str());
        return 0;
    });
}

void add_image_commands(CLI::App& app, Globals& g) {
    auto* image = app.add_subcommand("image", "manage images")->alias("i");
    image->require_subcommand(1);

    add_image_pull(image, g);
    add_image_ls(image, g);
    add_inspect_command(image, g, {ObjectKind::Image}, "show images in detail, as json");
    add_image_history(image, g);
    add_prune_command(image, g, {"/v1/images/prune", "remove every image no container was made from"},
                      "remove images; -a: every image no container uses");
    add_image_rm(image, g);
    add_image_push(image, g);
    add_image_import(image, g);
    add_image_tag(image, g);
    add_image_save(image, g);
    add_image_load(image, g);
}

}  // namespace ctr::cli
