#include "apiserver/build/build_run.hpp"
#include "apiserver/image_service.hpp"

#include "build/config_edit.hpp"
#include "build/shell_words.hpp"

#include <ctr/base/strings.hpp>
#include <ctr/pluginhost/call.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <ctime>

namespace ctr::apiserver::build {

namespace fs = std::filesystem;
using nlohmann::json;
using ctr::build::Instruction;

bool is_cache_reference(const std::string& r) { return r.rfind(std::string(kCacheRepository) + ":", 0) == 0; }

namespace {

// Without -t the image is nameless (<none> in listings), as docker's is;
// with one, an earlier nameless build of the same image is named now.
Status name_or_not(pluginhost::LoadedPlugin& p, const std::string& ref, const std::string& digest, bool tagged) {
    if (digest.rfind("sha256:", 0) != 0) return ok();
    const std::string nameless = untagged_reference(digest.substr(7));
    if (tagged) {
        (void)pluginhost::invoke(p.image()->remove, p.instance(), {{"reference", nameless}}, "remove");
        return ok();
    }
    auto kept = pluginhost::invoke(p.image()->tag, p.instance(), {{"source", ref}, {"target", nameless}}, "tag");
    if (!kept) return kept.error();
    return ok();
}

}  // namespace

Result<BuildRequest> BuildRequest::from_json(const json& b) {
    if (!b.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "build needs a JSON object body");
    BuildRequest r;
    auto str = [&](const char* k, std::string& out) -> Status {
        if (!b.contains(k)) return ok();
        if (!b[k].is_string()) return make_error(CTR_E_INVALID_ARGUMENT, std::string("build: \"") + k + "\" must be a string");
        out = b[k].get<std::string>();
        return ok();
    };
    CTR_TRY_STATUS(str("dockerfile", r.dockerfile));
    CTR_TRY_STATUS(str("dockerfile_name", r.dockerfile_name));
    CTR_TRY_STATUS(str("context", r.context));
    CTR_TRY_STATUS(str("ignore", r.ignore));
    CTR_TRY_STATUS(str("target", r.target));
    CTR_TRY_STATUS(str("runtime", r.runtime));
    if (!r.context.empty() && !fs::path(r.context).is_absolute())
        return make_error(CTR_E_INVALID_ARGUMENT, "build: context \"" + r.context + "\" must be an absolute path");
    if (r.dockerfile.size() > (size_t{4} << 20)) return make_error(CTR_E_INVALID_ARGUMENT, "build: the Dockerfile is over 4 MiB");
    try {
        r.tags = b.value("tags", std::vector<std::string>{});
        r.build_args = b.value("build_args", std::map<std::string, std::string>{});
        r.labels = b.value("labels", std::map<std::string, std::string>{});
    } catch (const std::exception&) {
        return make_error(CTR_E_INVALID_ARGUMENT, "build: tags must be a list of strings, build_args and labels objects of strings");
    }
    if (b.contains("secrets")) {
        if (!b["secrets"].is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "build: secrets must be an object of id -> absolute file path");
        for (const auto& [id, src] : b["secrets"].items()) {
            if (!src.is_string() || !fs::path(src.get<std::string>()).is_absolute())
                return make_error(CTR_E_INVALID_ARGUMENT, "build: secret \"" + id + "\" must name an absolute file path");
            r.secrets[id] = src.get<std::string>();
        }
    }
    CTR_TRY_STATUS(str("platform", r.platform));
    if (b.contains("output")) {
        const json& o = b["output"];
        if (!o.is_object() || !o.value("type", json()).is_string() || !o.value("dest", json()).is_string())
            return make_error(CTR_E_INVALID_ARGUMENT, "build: output must be {\"type\": \"oci|tar|local\", \"dest\": \"/absolute/path\"}");
        r.output_type = o["type"];
        r.output_dest = o["dest"];
        if (r.output_type != "oci" && r.output_type != "tar" && r.output_type != "local")
            return make_error(CTR_E_INVALID_ARGUMENT, "build: output type \"" + r.output_type + "\": want oci, tar or local");
        if (!fs::path(r.output_dest).is_absolute())
            return make_error(CTR_E_INVALID_ARGUMENT, "build: output dest \"" + r.output_dest + "\" must be an absolute path");
    }
    r.no_cache = b.value("no_cache", false);
    r.pull = b.value("pull", false);
    return r;
}

Result<json> Builder::build(const BuildRequest& req, const Progress& progress, const std::atomic<bool>& cancelled) {
    return BuildRun(d_, cs_, req, progress, cancelled).run();
}

ctr::build::Lookup BuildRun::lookup(const StageState& s) const {
    return [&s](const std::string& name) -> std::optional<std::string> {
        // ENV wins over an ARG of the same name.
        for (const auto& e : s.image["config"].value("Env", json::array()))
            if (e.is_string() && e.get<std::string>().rfind(name + "=", 0) == 0) return e.get<std::string>().substr(name.size() + 1);
        auto it = s.args.find(name);
        if (it != s.args.end()) return it->second;
        return std::nullopt;
    };
}

Result<std::string> BuildRun::word(const StageState& s, const Instruction& ins, const std::string& w) const {
    auto r = ctr::build::expand_word(w, lookup(s), plan_.file.escape);
    if (!r) return ctr::build::instruction_error(plan_.file, ins, r.error().message);
    return *r;
}

std::vector<std::string> BuildRun::run_env(const StageState& s) const {
    json env = s.image["config"].value("Env", json::array());
    std::vector<std::string> out;
    for (const auto& e : env)
        if (e.is_string()) out.push_back(e);
    for (const auto& [k, v] : s.args) {
        bool in_env = false;
        for (const auto& e : out) in_env = in_env || e.rfind(k + "=", 0) == 0;
        if (!in_env) out.push_back(k + "=" + v);
    }
    return out;
}

Result<std::optional<json>> BuildRun::resolve(const std::string& ref) {
    auto* p = CTR_TRY(d_.image_plugin());
    auto r = pluginhost::invoke(p->image()->resolve, p->instance(), {{"reference", ref}}, "resolve");
    if (!r) {
        if (r.error().status == CTR_E_NOT_FOUND) return std::optional<json>();
        return r.error();
    }
    return std::optional<json>(*r);
}

json BuildRun::history(const Instruction& ins, bool empty_layer) const {
    json h = {{"created", ctr::rfc3339(std::time(nullptr))}, {"created_by", ins.original}, {"comment", "container build"}};
    if (empty_layer) h["empty_layer"] = true;
    return h;
}

Result<json> BuildRun::commit(const StageState& s, const std::string& key, const std::string& layer, json image) {
    auto* p = CTR_TRY(d_.image_plugin());
    if (!p->image()->commit) return make_error(CTR_E_UNIMPLEMENTED, "the image plugin has no commit (it came in ABI 1.3): it cannot store built images");
    json req = {{"reference", std::string(kCacheRepository) + ":" + key.substr(0, 64)}, {"config", std::move(image)}};
    if (!s.ref.empty()) req["base"] = s.ref;
    if (!layer.empty()) req["layer"] = layer;
    return pluginhost::invoke(p->image()->commit, p->instance(), req, "commit");
}

// A stored image, pulled first when missing (or always with --pull).
Result<json> BuildRun::image_for(const std::string& reference) {
    auto found = CTR_TRY(resolve(reference));
    if (found && !req_.pull) return *found;
    progress_({{"output", "pulling " + reference + "\n"}});
    auto* p = CTR_TRY(d_.image_plugin());
    json pull = {{"reference", reference}};
    if (d_.auth_for)
        if (auto a = d_.auth_for(reference); !a.is_null()) pull["auth"] = a;
    auto pulled = pluginhost::invoke_with_progress(p->image()->pull, "pull", p->instance(), pull, [](const json&) {},
                                                   [this] { return cancelled_.load() || d_.stopping.load(); });
    if (!pulled) return pulled.error().wrap("pull " + reference);
    found = CTR_TRY(resolve(reference));
    if (!found) return make_error(CTR_E_NOT_FOUND, reference + ": not in the store after its pull");
    return *found;
}

// Only the host's platform is built: RUN steps would need an emulator.
Status check_platform(const std::string& p) {
    if (p.empty() || p == "linux/amd64" || p == "linux/x86_64" || p == "amd64") return ok();
    return make_error(CTR_E_UNSUPPORTED, "platform \"" + p + "\": only this host's, linux/amd64, can be built");
}

Result<StageState> BuildRun::from(const ctr::build::Stage& stage, const std::vector<StageState>& done) {
    CTR_TRY_STATUS(check_platform(stage.platform));
    StageState s;
    if (stage.base_stage) {
        s = done[*stage.base_stage];
        s.args.clear();
        s.cmd_set = false;
        return s;
    }
    auto platform = stage.platform;
    if (stage.base == "scratch") {
        // As BuildKit does, a scratch image gets the default PATH.
        s.image = {{"architecture", "amd64"}, {"os", "linux"},
                   {"config", {{"Env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}}}, {"history", json::array()}};
        s.key = sha256_hex("scratch\n" + platform);
        // An empty image to start from: its steps' containers need one.
        auto empty = CTR_TRY(commit(s, s.key, "", s.image));
        s.ref = empty["reference"];
        s.image = empty["config"];
        return s;
    }
    auto found = CTR_TRY(image_for(stage.base));
    s.ref = found["reference"];
    s.image = found["config"];
    if (!s.image.contains("config") || !s.image["config"].is_object()) s.image["config"] = json::object();
    s.key = sha256_hex("from\n" + found["digest"].get<std::string>());
    return s;
}

Status BuildRun::metadata(StageState& s, const Instruction& ins, std::string& key_text) {
    key_text = CTR_TRY(ctr::build::apply_config_instruction(s.image, plan_.file, ins, [&s](const std::string& name) -> std::optional<std::string> {
        auto it = s.args.find(name);
        if (it != s.args.end()) return it->second;
        return std::nullopt;
    }, s.cmd_set));
    return ok();
}

// RUN's command: the exec form as written, else the shell with the line
// (or the heredoc that is the whole line, or the line with its heredocs).
std::vector<std::string> BuildRun::run_argv(const StageState& s, const Instruction& ins) const {
    if (ins.exec_form) return ins.args;
    json shell = s.image["config"].value("Shell", json::array({"/bin/sh", "-c"}));
    std::vector<std::string> argv = shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"} : shell.get<std::vector<std::string>>();
    std::string script = ins.text;
    if (ins.heredocs.size() == 1 && ins.text == "<<" + ins.heredocs[0].name) script = ins.heredocs[0].content;
    else
        for (const auto& h : ins.heredocs) script += "\n" + h.content + h.name;
    argv.push_back(script);
    return argv;
}

Status BuildRun::step(StageState& s, const Instruction& ins) {
    ++step_no_;
    progress_({{"step", step_no_}, {"of", steps_}, {"instruction", ins.original}});
    auto t0 = std::chrono::steady_clock::now();
    const std::string& k = ins.keyword;
    if (k == "ARG") {
        for (const auto& [name, value] : CTR_TRY(ctr::build::name_values(plan_.file, ins))) {
            auto given = req_.build_args.find(name);
            if (given != req_.build_args.end()) s.args[name] = given->second;
            else if (value) s.args[name] = CTR_TRY(word(s, ins, *value));
            else if (auto g = globals_.find(name); g != globals_.end()) s.args[name] = g->second;
        }
        progress_({{"done", true}, {"seconds", 0}});
        return ok();
    }
    StageState next = s;
    std::string payload;
    std::vector<std::string> argv;
    CopyPlan copy;
    if (k == "RUN") {
        argv = run_argv(s, ins);
        json mounts = json::array();  // as written: a secret's id, never its content
        for (const auto& [name, value] : ins.flags)
            if (name == "mount") mounts.push_back(value);
        json key = {{"argv", argv}, {"args", s.args}, {"network", ins.flag("network", "default")}, {"mounts", mounts}};
        if (json bound = CTR_TRY(bind_sources_key(ins)); !bound.empty()) key["bound"] = bound;
        payload = key.dump();
    } else if (k == "COPY" || k == "ADD") {
        CTR_TRY_STATUS(copy_plan(s, ins, copy, payload));
    } else {
        CTR_TRY_STATUS(metadata(next, ins, payload));
    }
    std::string key = sha256_hex(s.key + "\n" + k + "\n" + payload);
    std::string ref = std::string(kCacheRepository) + ":" + key.substr(0, 64);
    if (!req_.no_cache) {
        if (auto hit = CTR_TRY(resolve(ref)); hit) {
            next.ref = ref;
            next.image = (*hit)["config"];
            next.key = key;
            s = std::move(next);
            progress_({{"cached", true}});
            return ok();
        }
    }
    if (cancelled_ || d_.stopping) return make_error(CTR_E_CANCELLED, "build cancelled");
    std::string layer;
    if (k == "RUN") layer = CTR_TRY(run_step(s, ins, argv));
    else if (k == "WORKDIR") layer = CTR_TRY(workdir_step(next, ins));
    else if ((k == "COPY" || k == "ADD") && !copy.from_image.empty())
        layer = CTR_TRY(copy_from_step(s, ins, copy));
    else if (k == "COPY" || k == "ADD")
        layer = CTR_TRY(copy_step(s, ins, copy.heredocs ? *copy.heredocs : *context_, copy));
    json image = next.image;
    if (!image["history"].is_array()) image["history"] = json::array();
    image["history"].push_back(history(ins, layer.empty()));
    image["created"] = ctr::rfc3339(std::time(nullptr));
    auto committed = commit(s, key, layer, image);
    std::error_code ec;
    if (!layer.empty()) fs::remove(layer, ec);
    if (!committed) return committed.error().wrap(ins.keyword);
    next.ref = (*committed)["reference"];
    next.image = (*committed)["config"];
    next.key = key;
    s = std::move(next);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress_({{"done", true}, {"seconds", secs}});
    return ok();
}

Result<json> BuildRun::run() {
    auto df = CTR_TRY(ctr::build::parse_dockerfile(req_.dockerfile, req_.dockerfile_name));
    std::map<std::string, std::string> automatic = {{"TARGETPLATFORM", "linux/amd64"}, {"TARGETOS", "linux"}, {"TARGETARCH", "amd64"},
                                                    {"BUILDPLATFORM", "linux/amd64"}, {"BUILDOS", "linux"}, {"BUILDARCH", "amd64"}};
    plan_ = CTR_TRY(ctr::build::plan_build(df, req_.build_args, automatic));
    CTR_TRY_STATUS(check_platform(req_.platform));
    auto order = CTR_TRY(plan_.stages_for(req_.target));
    // The global ARGs' values: what `ARG NAME` in a stage brings in.
    globals_ = automatic;
    for (const auto& ins : plan_.global_args)
        for (const auto& [name, value] : CTR_TRY(ctr::build::name_values(plan_.file, ins))) {
            auto given = req_.build_args.find(name);
            StageState g;
            g.args = globals_;
            if (given != req_.build_args.end()) globals_[name] = given->second;
            else if (value) globals_[name] = CTR_TRY(word(g, ins, *value));
        }
    if (!req_.context.empty()) {
        std::error_code ec;
        if (!fs::is_directory(req_.context, ec)) return make_error(CTR_E_NOT_FOUND, "build context \"" + req_.context + "\" is not a directory");
        context_.emplace(req_.context, CTR_TRY(ctr::build::IgnoreRules::parse(req_.ignore)));
    }
    for (size_t i : order) steps_ += 1 + static_cast<int>(plan_.stages[i].steps.size());
    done_.resize(plan_.stages.size());
    for (size_t i : order) {
        const auto& stage = plan_.stages[i];
        ++step_no_;
        progress_({{"step", step_no_}, {"of", steps_}, {"instruction", stage.from.original}});
        auto st = from(stage, done_);
        if (!st) return ctr::build::instruction_error(plan_.file, stage.from, st.error().message);
        progress_({{"done", true}, {"seconds", 0}});
        // ONBUILD triggers of the base run first, as if written here.
        json triggers = stage.base_stage ? json::array() : st->image["config"].value("OnBuild", json::array());
        if (!triggers.is_array()) triggers = json::array();
        st->image["config"].erase("OnBuild");
        for (const auto& t : triggers) {
            auto parsed = ctr::build::parse_dockerfile(t.get<std::string>(), "ONBUILD");
            if (!parsed) return parsed.error();
            steps_ += static_cast<int>(parsed->instructions.size());
            for (const auto& ins : parsed->instructions) CTR_TRY_STATUS(step(*st, ins));
        }
        for (const auto& ins : stage.steps) CTR_TRY_STATUS(step(*st, ins));
        done_[i] = *st;
    }
    StageState final_state = done_[order.back()];
    if (!req_.labels.empty()) {
        Instruction ins;
        ins.keyword = "LABEL";
        for (const auto& [k, v] : req_.labels) {
            final_state.image["config"]["Labels"][k] = v;
            ins.original += (ins.original.empty() ? "LABEL " : " ") + k + "=" + v;
        }
        std::string key = sha256_hex(final_state.key + "\nLABEL\n" + final_state.image["config"]["Labels"].dump());
        json image = final_state.image;
        image["history"].push_back(history(ins, true));
        auto committed = CTR_TRY(commit(final_state, key, "", image));
        final_state.ref = committed["reference"];
        final_state.image = committed["config"];
    }
    if (final_state.ref.empty()) {  // FROM scratch and nothing else: an empty image
        auto committed = CTR_TRY(commit(final_state, sha256_hex(final_state.key + "\nempty"), "", final_state.image));
        final_state.ref = committed["reference"];
    }
    auto* p = CTR_TRY(d_.image_plugin());
    json tags = json::array();
    for (const auto& t : req_.tags) {
        auto tagged = pluginhost::invoke(p->image()->tag, p->instance(), {{"source", final_state.ref}, {"target", t}}, "tag");
        if (!tagged) return tagged.error().wrap("tag " + t);
        tags.push_back((*tagged)["reference"]);
        d_.events.publish("image", "tag", (*tagged)["reference"], {{"name", (*tagged)["reference"]}});
    }
    if (!req_.output_type.empty()) CTR_TRY_STATUS(write_output(final_state));
    auto resolved = CTR_TRY(resolve(final_state.ref));
    std::string digest = resolved ? (*resolved)["digest"].get<std::string>() : "";
    CTR_TRY_STATUS(name_or_not(*p, final_state.ref, digest, !req_.tags.empty()));
    return json{{"id", digest}, {"reference", final_state.ref}, {"tags", tags}};
}

CacheUsage cache_usage(const json& images) {
    CacheUsage u;
    std::set<std::string> image_layers;  // held by an image that is not the cache's
    std::vector<const json*> cached;
    for (const auto& i : images) {
        if (is_cache_reference(i.value("reference", ""))) {
            cached.push_back(&i);
            continue;
        }
        for (const auto& l : i.value("layers", json::array())) image_layers.insert(l.value("digest", ""));
    }
    // Each layer is counted once, with the oldest entry that holds it.
    std::stable_sort(cached.begin(), cached.end(),
                     [](const json* a, const json* b) { return a->value("created", int64_t{0}) < b->value("created", int64_t{0}); });
    std::set<std::string> counted;
    for (const json* i : cached) {
        int64_t own = i->value("size", int64_t{0}), total = 0;
        for (const auto& l : i->value("layers", json::array())) own -= l.value("size", int64_t{0});
        own = std::max<int64_t>(own, 0);  // its config and manifest
        total = own;
        for (const auto& l : i->value("layers", json::array())) {
            const std::string digest = l.value("digest", "");
            if (!counted.insert(digest).second) continue;
            total += l.value("size", int64_t{0});
            if (!image_layers.count(digest)) own += l.value("size", int64_t{0});
        }
        ++u.entries;
        u.size += total;
        u.own += own;
        u.own_by_reference[i->value("reference", "")] = own;
    }
    return u;
}

Result<json> Builder::usage() {
    auto* p = CTR_TRY(d_.image_plugin());
    const auto u = cache_usage(CTR_TRY(pluginhost::invoke(p->image()->list, p->instance(), json::object(), "list")));
    return json{{"entries", u.entries}, {"size", u.size}, {"own", u.own}};
}

Result<json> Builder::prune(int64_t keep_bytes) {
    auto* p = CTR_TRY(d_.image_plugin());
    json list = CTR_TRY(pluginhost::invoke(p->image()->list, p->instance(), json::object(), "list"));
    const int64_t before = cache_usage(list).own;
    // Oldest first: with keep_bytes, the newest steps stay while their own bytes fit.
    std::vector<json> entries;
    for (const auto& i : list)
        if (is_cache_reference(i.value("reference", ""))) entries.push_back(i);
    std::sort(entries.begin(), entries.end(),
              [](const json& a, const json& b) { return a.value("created", int64_t{0}) < b.value("created", int64_t{0}); });
    int64_t removed = 0, left = before;
    for (const auto& e : entries) {
        if (keep_bytes >= 0 && left <= keep_bytes) break;
        if (!pluginhost::invoke(p->image()->remove, p->instance(), {{"reference", e["reference"]}}, "remove")) continue;
        ++removed;
        for (auto it = list.begin(); it != list.end(); ++it)
            if (it->value("reference", "") == e["reference"]) {
                list.erase(it);
                break;
            }
        left = cache_usage(list).own;
    }
    if (keep_bytes < 0) {
        std::error_code ec;
        fs::remove_all(d_.paths.lib_dir() / "build" / "cache-mounts", ec);  // RUN --mount=type=cache folders
    }
    return json{{"removed", removed}, {"size", before - left}, {"kept", left}};
}

}  // namespace ctr::apiserver::build
