// COPY's and ADD's plan before the step runs: sources found (context,
// heredocs or another image), destination, owner and mode, and what the
// cache key is made of.
#include "apiserver/build/build_run.hpp"

#include "apiserver/build/url_download.hpp"

#include <algorithm>
#include <memory>
#include <fstream>

namespace ctr::apiserver::build {

namespace fs = std::filesystem;
using nlohmann::json;
using ctr::build::Instruction;

// COPY's and ADD's sources (in the context, or with --from in another
// image), destination and flags; `payload`: what its cache key is made of.
Status BuildRun::copy_plan(const StageState& s, const Instruction& ins, CopyPlan& plan, std::string& payload) {
    const std::string& k = ins.keyword;
    std::vector<std::string> words;
    if (ins.exec_form) {
        for (const auto& a : ins.args) words.push_back(CTR_TRY(word(s, ins, a)));
    } else {
        auto w = ctr::build::expand_words(ins.text, lookup(s), plan_.file.escape);
        if (!w) return ctr::build::instruction_error(plan_.file, ins, w.error().message);
        words = *w;
    }
    if (words.size() < 2) return ctr::build::instruction_error(plan_.file, ins, k + " needs a source and a destination");
    plan.dest = words.back();
    plan.extract = k == "ADD";
    words.pop_back();
    CTR_TRY_STATUS(owner_and_mode(s, ins, plan));
    json key = {{"dest", plan.dest}, {"workdir", s.image["config"].value("WorkingDir", "")}, {"chown", plan.chown}, {"chmod", plan.chmod}};
    if (ins.has_flag("from")) {
        plan.from_image = CTR_TRY(image_named(ins, CTR_TRY(word(s, ins, ins.flag("from")))));
        auto image = CTR_TRY(resolve(plan.from_image));
        plan.from_paths = words;  // wildcards expanded in that image at the copy
        key["from"] = image ? (*image)["digest"] : json();
        key["paths"] = words;
        payload = key.dump();
        return ok();
    }
    if (!ins.heredocs.empty()) {
        CTR_TRY_STATUS(heredoc_sources(s, ins, words, plan));
        key["sources"] = CTR_TRY(plan.heredocs->digest(plan.sources));
        payload = key.dump();
        return ok();
    }
    if (k == "ADD" && std::any_of(words.begin(), words.end(), [](const std::string& w) { return w.find("://") != std::string::npos; })) {
        CTR_TRY_STATUS(url_sources(ins, words, plan));
        key["sources"] = CTR_TRY(plan.heredocs->digest(plan.sources));
        payload = key.dump();
        return ok();
    }
    if (!context_) return ctr::build::instruction_error(plan_.file, ins, k + ": this build has no context (the Dockerfile came on stdin)");
    for (const auto& w : words) {
        if (w.find("://") != std::string::npos) return ctr::build::instruction_error(plan_.file, ins, "COPY takes no URL (" + w + "): ADD does");
        auto found = context_->sources(w);
        if (!found) return ctr::build::instruction_error(plan_.file, ins, found.error().message);
        plan.sources.insert(plan.sources.end(), found->begin(), found->end());
    }
    key["sources"] = CTR_TRY(context_->digest(plan.sources));
    payload = key.dump();
    return ok();
}

Result<std::string> BuildRun::image_named(const Instruction& ins, const std::string& from) {
    if (auto stage = plan_.stage_named(from); stage && done_[*stage].image.is_object() && !done_[*stage].ref.empty())
        return done_[*stage].ref;
    else if (stage)
        return ctr::build::instruction_error(plan_.file, ins, "from " + from + ": that stage has not been built");
    auto found = image_for(from);
    if (!found) return ctr::build::instruction_error(plan_.file, ins, "from " + from + ": " + found.error().message);
    return (*found)["reference"].get<std::string>();
}

namespace {

// A scratch folder that serves as a step's context (heredocs, downloads):
// removed with the last owner of the returned context.
Result<std::shared_ptr<Context>> scratch_context(const fs::path& lib, const std::string& what, fs::path& dir) {
    dir = lib / "build" / scratch_name(what);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return make_error(CTR_E_INTERNAL, "create \"" + dir.string() + "\": " + ec.message());
    struct Owned : Context {
        using Context::Context;
        fs::path owned;
        ~Owned() {
            std::error_code e;
            fs::remove_all(owned, e);
        }
    };
    auto ctx = std::make_shared<Owned>(dir, ctr::build::IgnoreRules());
    ctx->owned = dir;
    return std::shared_ptr<Context>(ctx);
}

}  // namespace

Result<std::shared_ptr<Context>> BuildRun::scratch_context(const std::string& what, fs::path& dir) const {
    return build::scratch_context(d_.paths.lib_dir(), what, dir);
}

// ADD URL DEST: the file downloaded (http or https, redirects followed) into
// a scratch folder that serves as the step's context, named by the URL's
// last part, mode 0600 as Docker makes it. Its content is its cache key.
Status BuildRun::url_sources(const Instruction& ins, const std::vector<std::string>& words, CopyPlan& plan) {
    fs::path dir;
    auto ctx = CTR_TRY(scratch_context("download", dir));
    plan.heredocs = ctx;
    for (const auto& url : words) {
        if (url.find("://") == std::string::npos)
            return ctr::build::instruction_error(plan_.file, ins, "ADD: with a URL, every source must be one (" + url + " is not)");
        std::string path = url.substr(url.find("://") + 3);
        path = path.find('/') == std::string::npos ? "" : path.substr(path.find('/'));
        path = path.substr(0, path.find_first_of("?#"));
        std::string name = fs::path(path).filename().string();
        if (name.empty() || name == "." || name == "..") name = "download";
        if (auto got = download_url(url, dir / name); !got)
            return ctr::build::instruction_error(plan_.file, ins, "ADD " + url + ": " + got.error().message);
        std::error_code ec;
        fs::permissions(dir / name, fs::perms(0600), ec);
        auto found = ctx->sources(name);
        if (!found) return ctr::build::instruction_error(plan_.file, ins, found.error().message);
        plan.sources.insert(plan.sources.end(), found->begin(), found->end());
    }
    plan.extract = false;  // a download is never unpacked
    return ok();
}

// COPY <<EOF DEST: each heredoc a file (named as the heredoc) in a scratch
// folder that serves as the step's context; unquoted ones expanded.
Status BuildRun::heredoc_sources(const StageState& s, const Instruction& ins, const std::vector<std::string>& words, CopyPlan& plan) {
    fs::path dir;
    auto ctx = CTR_TRY(scratch_context("heredoc", dir));
    plan.heredocs = ctx;
    for (const auto& w : words) {
        const ctr::build::Heredoc* h = nullptr;
        for (const auto& candidate : ins.heredocs)
            if (w.rfind("<<", 0) == 0 && w.find(candidate.name) != std::string::npos) h = &candidate;
        if (!h) return ctr::build::instruction_error(plan_.file, ins, ins.keyword + ": with heredocs, every source must be one (" + w + " is not)");
        std::string content = h->content;
        if (h->expand) {
            // As inside double quotes: its own quotes are kept.
            std::string quoted;
            for (char c : content) {
                if (c == '"') quoted += plan_.file.escape;
                quoted += c;
            }
            auto e = ctr::build::expand_word("\"" + quoted + "\"", lookup(s), plan_.file.escape);
            if (e) content = *e;
        }
        fs::path file = dir / h->name;
        {
            std::ofstream out(file, std::ios::binary | std::ios::trunc);
            out << content;
        }
        std::error_code ec;
        fs::permissions(file, fs::perms(0644), ec);
        auto found = ctx->sources(h->name);
        if (!found) return ctr::build::instruction_error(plan_.file, ins, found.error().message);
        plan.sources.insert(plan.sources.end(), found->begin(), found->end());
    }
    return ok();
}

// --chown (checked here, looked up in the image at the copy) and --chmod (octal).
Status BuildRun::owner_and_mode(const StageState& s, const Instruction& ins, CopyPlan& plan) const {
    if (ins.has_flag("chown")) {
        plan.chown = CTR_TRY(word(s, ins, ins.flag("chown")));
        if (plan.chown.empty() || plan.chown.front() == ':' || plan.chown.back() == ':' || std::count(plan.chown.begin(), plan.chown.end(), ':') > 1)
            return ctr::build::instruction_error(plan_.file, ins, "--chown=" + plan.chown + ": want USER[:GROUP] (names or numbers)");
    }
    if (ins.has_flag("chmod")) {
        const std::string m = ins.flag("chmod");
        if (m.empty() || m.size() > 4 || m.find_first_not_of("01234567") != std::string::npos)
            return ctr::build::instruction_error(plan_.file, ins, "--chmod=" + m + ": want an octal mode (0755)");
        plan.chmod = std::stoi(m, nullptr, 8);
    }
    return ok();
}

}  // namespace ctr::apiserver::build
