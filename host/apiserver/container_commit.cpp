#include "apiserver/container_commit.hpp"
#include "apiserver/image_service.hpp"

#include "build/config_edit.hpp"
#include "copy/layer_changes.hpp"
#include "services/volumes.hpp"

#include <ctr/base/failpoint.hpp>
#include <ctr/base/strings.hpp>
#include <ctr/pluginhost/call.hpp>
#include <ctr/sys/files.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <random>
#include <algorithm>
#include <set>

namespace ctr::apiserver {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The container's OCI spec (config.json), or an empty object.
json spec_of(Containers& cs, const store::ContainerRecord& c) {
    std::ifstream in(cs.dir_of(c.id) / "config.json");
    json spec = json::parse(in, nullptr, false);
    return spec.is_object() ? spec : json::object();
}

// What is no write of the container's: the kernel's filesystems, and the
// points where something is mounted over its root (the daemon's files,
// volumes, tmpfs) when the runtime only made them empty to mount on.
copy::SkipEntry not_its_own(const json& spec, const fs::path& upper) {
    std::set<std::string> points;
    for (const auto& m : spec.value("mounts", json::array())) {
        std::string dst = m.value("destination", "");
        while (dst.size() > 1 && dst.back() == '/') dst.pop_back();
        if (dst.size() > 1 && dst[0] == '/') points.insert(dst.substr(1));
    }
    return [points, upper](const std::string& rel, const struct stat& st) {
        if (rel == "dev" || rel == "proc" || rel == "sys") return true;
        if (!points.count(rel)) return false;
        if (S_ISREG(st.st_mode)) return st.st_size == 0;
        std::error_code ec;
        return S_ISDIR(st.st_mode) && fs::is_empty(upper / rel, ec);
    };
}

Result<std::string> writable_dir_of(const store::ContainerRecord& c) {
    std::string upper = c.settings().writable_dir;
    if (upper.empty())
        return make_error(CTR_E_UNSUPPORTED, "container " + c.name + ": its image plugin does not say where its writes land (writable_dir)");
    return upper;
}

// The container's own settings over its image's config, as docker's commit
// keeps them: command, entrypoint, environment, working directory, user,
// labels.
void settle_config(json& image, const store::ContainerRecord& c) {
    json& cfg = image["config"];
    if (!cfg.is_object()) cfg = json::object();
    const json& run = c.config;
    if (run.contains("entrypoint") && run["entrypoint"].is_array()) {
        cfg["Entrypoint"] = run["entrypoint"];
        cfg.erase("Cmd");
    }
    if (run.contains("cmd") && run["cmd"].is_array() && !run["cmd"].empty()) cfg["Cmd"] = run["cmd"];
    for (const auto& e : run.value("env", json::array())) {
        if (!e.is_string()) continue;
        const std::string kv = e.get<std::string>();
        const auto eq = kv.find('=');
        build::set_env(cfg["Env"], kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
    }
    if (!run.value("workdir", "").empty()) cfg["WorkingDir"] = run["workdir"];
    if (!run.value("user", "").empty()) cfg["User"] = run["user"];
    if (c.labels.is_object())
        for (const auto& [k, v] : c.labels.items()) cfg["Labels"][k] = v;
}

// Freezes a running container while a commit writes its layer (commit
// --pause), and undoes it however the commit ends. Its mark in the
// container's folder lets the next daemon undo it after a crash
// (Containers::reconcile), so that no container stays frozen for a
// commit nobody waits for.
struct Freeze {
    Containers& cs;
    std::string id;
    bool frozen = false;
    Status pause() {
        CTR_TRY_STATUS(sys::write_file_atomic(cs.commit_pause_mark_of(id), "", 0600, sys::Durability::process_crash));
        auto st = cs.pause(id);
        frozen = bool(st);
        if (!frozen) forget();
        return st;
    }
    Status thaw() {
        frozen = false;
        auto st = cs.unpause(id);
        forget();
        return st;
    }
    void forget() {
        std::error_code ec;
        fs::remove(cs.commit_pause_mark_of(id), ec);
    }
    ~Freeze() {
        if (!frozen) return;
        if (auto st = thaw(); !st) spdlog::warn("commit: unpause {}: {}", id, st.error().message);
    }
};

// Docker's merge of a commit's config over the image's (daemon/commit.go):
// lists and strings given replace; Env by variable, Labels, ExposedPorts
// and Volumes by key, are added to the image's.
Status merge_commit_config(json& image, const json& given) {
    if (!given.is_object()) return ok();
    json& cfg = image["config"];
    if (!cfg.is_object()) cfg = json::object();
    auto bad = [](const char* key, const char* want) {
        return make_error(CTR_E_INVALID_ARGUMENT, std::string("commit: config.") + key + " must be " + want);
    };
    for (const char* key : {"Cmd", "Entrypoint"}) {
        if (!given.contains(key) || given[key].is_null()) continue;
        const json& v = given[key].is_string() ? json::array({"/bin/sh", "-c", given[key]}) : given[key];
        if (!v.is_array() || !std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_string(); })) return bad(key, "a list of strings");
        if (!v.empty()) cfg[key] = v;
    }
    for (const char* key : {"User", "WorkingDir", "StopSignal"}) {
        if (!given.contains(key) || given[key].is_null()) continue;
        if (!given[key].is_string()) return bad(key, "a string");
        if (!given[key].get<std::string>().empty()) cfg[key] = given[key];
    }
    if (given.contains("Env") && !given["Env"].is_null()) {
        if (!given["Env"].is_array()) return bad("Env", "a list of NAME=VALUE");
        json env = json::array();
        std::set<std::string> names;
        for (const auto& e : given["Env"]) {
            if (!e.is_string() || e.get<std::string>().find('=') == 0 || e.get<std::string>().find('=') == std::string::npos)
                return bad("Env", "a list of NAME=VALUE");
            env.push_back(e);
            names.insert(e.get<std::string>().substr(0, e.get<std::string>().find('=')));
        }
        for (const auto& e : cfg.value("Env", json::array()))
            if (e.is_string() && !names.count(e.get<std::string>().substr(0, e.get<std::string>().find('=')))) env.push_back(e);
        cfg["Env"] = env;
    }
    for (const char* key : {"Labels", "ExposedPorts", "Volumes"}) {
        if (!given.contains(key) || given[key].is_null()) continue;
        if (!given[key].is_object()) return bad(key, "an object");
        if (!cfg.contains(key) || !cfg[key].is_object()) cfg[key] = json::object();
        for (const auto& [k, v] : given[key].items()) {
            if (std::string(key) == "Labels" && !v.is_string()) return bad(key, "an object of strings");
            cfg[key][k] = std::string(key) == "Labels" ? v : json::object();
        }
    }
    return ok();
}

}  // namespace

Result<CommitRequest> CommitRequest::from_json(const std::string& container, const json& body) {
    if (!body.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "commit: the body must be a JSON object");
    CommitRequest r;
    r.container = container;
    for (const char* key : {"reference", "comment", "author"})
        if (body.contains(key) && !body[key].is_string())
            return make_error(CTR_E_INVALID_ARGUMENT, std::string("commit: field \"") + key + "\" must be a string");
    r.reference = body.value("reference", "");
    r.comment = body.value("comment", "");
    r.author = body.value("author", "");
    if (body.contains("changes")) {
        if (!body["changes"].is_array()) return make_error(CTR_E_INVALID_ARGUMENT, "commit: field \"changes\" must be an array of strings");
        for (const auto& c : body["changes"]) {
            if (!c.is_string()) return make_error(CTR_E_INVALID_ARGUMENT, "commit: field \"changes\" must be an array of strings");
            r.changes.push_back(c);
        }
    }
    if (body.contains("pause") && !body["pause"].is_boolean()) return make_error(CTR_E_INVALID_ARGUMENT, "commit: field \"pause\" must be true or false");
    r.pause = body.value("pause", true);
    if (body.contains("config") && !body["config"].is_null()) {
        if (!body["config"].is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "commit: field \"config\" must be an object");
        r.config = body["config"];
    }
    return r;
}

Result<json> container_changes(Containers& cs, const std::string& key) {
    auto c = CTR_TRY(cs.get(key));
    std::string upper = CTR_TRY(writable_dir_of(c));
    auto hold = CTR_TRY(cs.hold_rootfs(c));
    // The layers beneath, as the image plugin said (a fuse-overlayfs mount
    // shows none), else as the overlay mount shows them; without them (a
    // plugin that is not overlay), every entry reads as added.
    const auto said = c.settings().lower_dirs;
    std::vector<fs::path> lowers(said.begin(), said.end());
    if (lowers.empty())
        if (auto mounted = copy::overlay_lowers(cs.dir_of(c.id) / "rootfs")) lowers = *mounted;
    auto changes = CTR_TRY(copy::layer_changes(upper, lowers, not_its_own(spec_of(cs, c), upper)));
    json out = json::array();
    for (const auto& ch : changes) out.push_back({{"Path", ch.path}, {"Kind", static_cast<int>(ch.kind)}});
    return out;
}

Result<json> commit_container(Daemon& d, Containers& cs, const CommitRequest& req) {
    auto c = CTR_TRY(cs.get(req.container));
    std::string upper = CTR_TRY(writable_dir_of(c));
    auto* p = CTR_TRY(d.image_plugin());
    if (!p->image()->commit) return make_error(CTR_E_UNIMPLEMENTED, "the image plugin has no commit (it came in ABI 1.3)");
    auto base = pluginhost::invoke(p->image()->resolve, p->instance(), {{"reference", c.image}}, "resolve");
    if (!base) return base.error().wrap("commit " + c.name + ": its image " + c.image);
    const std::string made_from = c.settings().image_digest;
    if (!made_from.empty() && base->value("digest", "") != made_from)
        return make_error(CTR_E_FAILED_PRECONDITION, "commit " + c.name + ": " + c.image + " names another image now (" +
                                                         base->value("digest", "") + ", not " + made_from + " it was made from)");
    json image = (*base)["config"];
    if (!image.is_object()) image = json::object();
    settle_config(image, c);
    if (auto st = build::apply_changes(image, req.changes); !st) return st.error();
    CTR_TRY_STATUS(merge_commit_config(image, req.config));

    const json spec = spec_of(cs, c);
    Freeze freeze{cs, c.id};
    if (req.pause && c.state == store::ContainerState::running && !c.paused)
        if (auto st = freeze.pause(); !st && st.error().status != CTR_E_UNIMPLEMENTED) return st.error().wrap("commit");
    auto hold = CTR_TRY(cs.hold_rootfs(c));
    fs::path dir = d.paths.lib_dir() / "commit";
    std::error_code ec;
    fs::create_directories(dir, ec);
    thread_local std::mt19937_64 rng{std::random_device{}()};
    fs::path layer = dir / ("layer-" + std::to_string(rng()) + ".tar");
    struct Scratch {
        fs::path path;
        ~Scratch() {
            std::error_code e;
            fs::remove(path, e);
        }
    } scratch{layer};
    CTR_TRY(copy::write_layer(upper, layer, not_its_own(spec, upper)));
    failpoint("container-commit-while-paused");  // reconcile unpauses it
    hold.reset();
    if (freeze.frozen) CTR_TRY_STATUS(freeze.thaw());

    std::string created_by;
    for (const auto& a : spec.value("process", json::object()).value("args", json::array()))
        if (a.is_string()) created_by += (created_by.empty() ? "" : " ") + a.get<std::string>();
    json step = {{"created", ctr::rfc3339(std::time(nullptr))}, {"created_by", created_by}};
    if (!req.comment.empty()) step["comment"] = req.comment;
    if (!req.author.empty()) step["author"] = req.author, image["author"] = req.author;
    if (!image["history"].is_array()) image["history"] = json::array();
    image["history"].push_back(step);
    image["created"] = step["created"];
    // No name: a nameless image, as docker makes one (image_service.hpp).
    const std::string wanted = req.reference.empty() ? untagged_reference() : req.reference;
    json call = {{"reference", wanted}, {"base", (*base)["reference"]}, {"layer", layer.string()}, {"config", image}};
    auto committed = CTR_TRY(pluginhost::invoke(p->image()->commit, p->instance(), call, "commit"));
    const std::string reference = committed.value("reference", wanted), digest = committed.value("digest", "");
    d.events.publish("container", "commit", c.id, {{"name", c.name}, {"image", reference}, {"comment", req.comment}});
    spdlog::info("committed container {} as {} ({})", c.name, reference, digest);
    return json{{"Id", digest}, {"reference", reference}};
}

std::map<std::string, json> container_sizes(Daemon& d, const std::vector<store::ContainerRecord>& containers) {
    std::map<std::string, json> out;
    std::map<std::string, int64_t> image_size;
    auto plugin = d.image_plugin();
    pluginhost::LoadedPlugin* p = plugin ? *plugin : nullptr;
    for (const auto& c : containers) {
        const std::string upper = c.settings().writable_dir;
        const int64_t rw = upper.empty() ? 0 : services::disk_usage(upper);
        if (!image_size.count(c.image) && p) {
            auto found = pluginhost::invoke(p->image()->resolve, p->instance(), {{"reference", c.image}}, "resolve");
            image_size[c.image] = found ? found->value("size", int64_t{0}) : 0;
        }
        out[c.id] = {{"SizeRw", rw}, {"SizeRootFs", rw + image_size[c.image]}};
    }
    return out;
}

void add_commit_routes(Router& r, Daemon& d, Containers& cs) {
    r.add("GET", "/v1/containers/{id}/changes", [&cs](const Request& req) -> Result<Reply> { return json_reply(container_changes(cs, req.param("id"))); });
    r.add("POST", "/v1/containers/{id}/commit", [&d, &cs](const Request& req) -> Result<Reply> {
        auto parsed = CTR_TRY(CommitRequest::from_json(req.param("id"), req.body.is_null() ? json::object() : req.body));
        return json_reply(commit_container(d, cs, parsed), 201);
    });
}

}  // namespace ctr::apiserver
