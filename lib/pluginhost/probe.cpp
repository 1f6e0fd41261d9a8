#include <ctr/pluginhost/probe.hpp>

#include <ctr/sys/files.hpp>
#include <ctr/sys/process.hpp>

#include <spdlog/spdlog.h>

#include <sys/stat.h>

namespace ctr::pluginhost {

const char* state_name(PluginState s) {
    switch (s) {
    case PluginState::loaded: return "loaded";
    case PluginState::skipped: return "skipped";
    case PluginState::failed: return "failed";
    case PluginState::duplicate: return "duplicate";
    }
    return "failed";
}

ProbeOutcome outcome_of(const Status& st) {
    if (st) return {PluginState::loaded, ""};
    int32_t s = st.error().status;
    bool skipped = s == CTR_E_UNAVAILABLE || s == CTR_E_UNSUPPORTED;
    return {skipped ? PluginState::skipped : PluginState::failed, st.error().message};
}

namespace {
std::string stat_key(const std::filesystem::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return p.string() + "|missing";
    return p.string() + "|" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
           std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}
}  // namespace

std::string fingerprint(const Manifest& m) { return stat_key(m.file) + "|" + stat_key(m.library); }

ProbeCache::ProbeCache(std::filesystem::path file) : file_(std::move(file)) {
    if (file_.empty()) return;
    auto text = sys::read_file(file_);
    if (!text) return;
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_object()) entries_ = std::move(j);
}

bool ProbeCache::find(const std::string& key, ProbeOutcome* out) const {
    auto it = entries_.find(key);
    if (it == entries_.end() || !it->is_object()) return false;
    std::string state = it->value("state", "");
    if (state == "loaded") out->state = PluginState::loaded;
    else if (state == "skipped") out->state = PluginState::skipped;
    else if (state == "failed") out->state = PluginState::failed;
    else return false;
    out->reason = it->value("reason", "");
    return true;
}

void ProbeCache::put(const std::string& key, const ProbeOutcome& o) {
    entries_[key] = {{"state", state_name(o.state)}, {"reason", o.reason}};
    dirty_ = true;
}

void ProbeCache::save() const {
    if (file_.empty() || !dirty_) return;
    if (auto st = sys::make_dirs(file_.parent_path(), 0700); !st) {
        spdlog::debug("plugin probe cache not saved: {}", st.error().message);
        return;
    }
    if (auto st = sys::write_file_atomic(file_, entries_.dump(), 0600); !st)
        spdlog::debug("plugin probe cache not saved: {}", st.error().message);
}

ProbeOutcome run_probe(const std::filesystem::path& probe_exe, const Manifest& m, const HostOffer& offer,
                       int timeout_ms) {
    auto r = sys::run_capture({probe_exe.string(), "--manifest", m.file.string(), "--state-dir", offer.state_dir},
                              timeout_ms);
    if (!r) return {PluginState::failed, "cannot run the plugin probe: " + r.error().message};
    const auto& status = r->status;
    if (status.timed_out) return {PluginState::failed, "init hung: " + status.describe(timeout_ms)};
    if (status.signal != 0) return {PluginState::failed, "init crashed: " + status.describe()};
    auto j = nlohmann::json::parse(r->out, nullptr, false);
    if (!status.success() || !j.is_object())
        return {PluginState::failed, "plugin probe " + status.describe() + " without a verdict"};
    ProbeOutcome o;
    std::string state = j.value("state", "failed");
    o.state = state == "loaded" ? PluginState::loaded : state == "skipped" ? PluginState::skipped : PluginState::failed;
    o.reason = j.value("reason", "");
    return o;
}

}  // namespace ctr::pluginhost
