#include <ctr/pluginhost/registry.hpp>

#include <ctr/pluginhost/remote.hpp>

#include <ctr/sys/files.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

namespace ctr::pluginhost {

namespace {
// The reason given to plugins a process was told not to load (only_name).
const char* const kNotNeeded = "not needed by this process";

RemoteOptions remote_options(const RegistryOptions& opt, const Manifest& m) {
    RemoteOptions r;
    r.host_exe = opt.plugin_host_exe;
    r.log_file = opt.plugin_host_log;
    r.init_timeout_ms = opt.probe_timeout_ms;
    auto it = opt.call_timeout_ms.find(static_cast<int>(m.kind));
    r.call_timeout_ms = it != opt.call_timeout_ms.end() && it->second > 0 ? it->second
                        : m.call_timeout_ms > 0                          ? m.call_timeout_ms
                                                                         : opt.default_call_timeout_ms;
    if (auto ns = opt.plugin_netns.find(static_cast<int>(m.kind)); ns != opt.plugin_netns.end()) r.netns = ns->second;
    return r;
}
}  // namespace

nlohmann::json PluginEntry::to_json() const {
    nlohmann::json j{{"name", name},          {"kind", kind},
                     {"version", version},    {"abi", abi},
                     {"isolation", isolation}, {"path", path.string()},
                     {"state", state_name(state)}, {"reason", reason}};
    if (plugin && plugin->remote()) j["host_pid"] = plugin->remote()->pid();
    return j;
}

std::unique_ptr<Registry> Registry::scan(const RegistryOptions& opt) {
    auto reg = std::make_unique<Registry>();
    ProbeCache cache(opt.probe_cache);
    std::map<std::string, std::filesystem::path> first_of_name;

    for (auto& cand : scan_dirs(opt.dirs)) {
        PluginEntry e;
        e.path = cand.dir;
        if (!cand.parsed) {
            e.name = cand.dir.filename().string();
            e.kind = "unknown";
            e.state = PluginState::failed;
            e.reason = cand.parsed.error().message;
            reg->entries_.push_back(std::move(e));
            continue;
        }
        const Manifest& m = *cand.parsed;
        e.name = m.name;
        e.kind = kind_name(m.kind);
        e.version = m.version;
        e.description = m.description;
        e.isolation = m.isolation;
        e.is_default = m.is_default;
        e.abi = std::to_string(m.abi_major) + "." + std::to_string(m.abi_minor);

        auto [it, inserted] = first_of_name.emplace(m.name, cand.dir);
        if (!inserted) {
            e.state = PluginState::duplicate;
            e.reason = "a plugin named \"" + m.name + "\" was already found at " + it->second.string();
            reg->entries_.push_back(std::move(e));
            continue;
        }

        if (!opt.only_name.empty() && m.name != opt.only_name) {
            e.state = PluginState::skipped;
            e.reason = kNotNeeded;
            reg->entries_.push_back(std::move(e));
            continue;
        }
        HostOffer offer;
        offer.host_version = opt.host_version;
        offer.state_dir = (opt.state_root / m.name).string();

        ProbeOutcome outcome = outcome_of(precheck(m, offer));
        // The state dir is the plugin's once it runs (probed or loaded); a
        // scan of manifests alone (default_of) leaves the host as it was.
        if (outcome.state == PluginState::loaded && (opt.load || !opt.probe_exe.empty())) {
            if (auto st = sys::make_dirs(offer.state_dir, 0700); !st)
                outcome = {PluginState::failed, "cannot make its state directory: " + st.error().message};
        }
        if (outcome.state == PluginState::loaded && !opt.probe_exe.empty()) {
            std::string key = fingerprint(m);
            if (!cache.find(key, &outcome)) {
                outcome = run_probe(opt.probe_exe, m, offer, opt.probe_timeout_ms);
                cache.put(key, outcome);
            }
        }
        bool load_kind = opt.load_kinds.empty() ||
                         std::find(opt.load_kinds.begin(), opt.load_kinds.end(), static_cast<int>(m.kind)) != opt.load_kinds.end();
        if (outcome.state == PluginState::loaded && opt.load && load_kind) {
            bool remote = !opt.plugin_host_exe.empty() && (m.kind == CTR_KIND_NETWORK || m.kind == CTR_KIND_IMAGE);
            auto loaded = remote ? LoadedPlugin::load_remote(m, offer, remote_options(opt, m)) : LoadedPlugin::load(m, offer);
            outcome = outcome_of(loaded ? ok() : Status(loaded.error()));
            if (loaded) {
                e.abi = std::to_string(CTR_ABI_MAJOR) + "." + std::to_string((*loaded)->abi_minor());
                e.plugin = std::move(*loaded);
            }
        }
        e.state = outcome.state;
        e.reason = outcome.reason;
        if (e.state != PluginState::loaded) spdlog::debug("plugin {} {}: {}", e.name, state_name(e.state), e.reason);
        reg->entries_.push_back(std::move(e));
    }
    cache.save();
    return reg;
}

const PluginEntry* Registry::find(const std::string& name) const {
    for (const auto& e : entries_)
        if (e.name == name && e.state != PluginState::duplicate) return &e;
    return nullptr;
}

Result<LoadedPlugin*> Registry::get(const std::string& name, ctr_kind kind) const {
    const PluginEntry* e = find(name);
    if (e && e->plugin && e->plugin->kind() == kind) return e->plugin.get();
    std::string available;
    for (const auto& x : entries_) {
        bool usable = x.state == PluginState::loaded || x.reason == kNotNeeded;
        if (usable && x.kind == kind_name(kind)) available += (available.empty() ? "" : ", ") + x.name;
    }
    if (available.empty()) available = "none";
    std::string what = std::string(kind_name(kind)) + " plugin \"" + name + "\"";
    if (e && e->state != PluginState::loaded)
        return make_error(CTR_E_UNAVAILABLE, what + " is " + state_name(e->state) + ": " + e->reason +
                                                 " (available: " + available + ")");
    return make_error(CTR_E_NOT_FOUND, "unknown " + what + " (available: " + available + ")");
}

Result<std::string> Registry::choose(ctr_kind kind, const std::string& configured, const std::string& chooser) const {
    if (!configured.empty()) {
        const PluginEntry* e = find(configured);
        if (e && e->kind == kind_name(kind) && (e->state == PluginState::loaded || e->reason == kNotNeeded)) return configured;
        return get(configured, kind).error();  // says why, with the candidates
    }
    std::vector<const PluginEntry*> usable;
    for (const auto& x : entries_)
        if ((x.state == PluginState::loaded || x.reason == kNotNeeded) && x.kind == kind_name(kind)) usable.push_back(&x);
    std::string names;
    for (const auto* x : usable) names += (names.empty() ? "" : ", ") + x->name;
    std::string what = std::string(kind_name(kind)) + " plugin";
    if (usable.empty()) return make_error(CTR_E_UNAVAILABLE, "no " + what + " is loaded (system plugin ls says why)");
    if (usable.size() == 1) return usable.front()->name;
    std::vector<const PluginEntry*> defaults;
    for (const auto* x : usable)
        if (x->is_default) defaults.push_back(x);
    if (defaults.size() == 1) return defaults.front()->name;
    return make_error(CTR_E_FAILED_PRECONDITION, "several " + what + "s are loaded (" + names + ") and " + chooser + " chooses none");
}

Result<std::string> Registry::default_of(RegistryOptions options, ctr_kind kind, const std::string& chooser) {
    options.load = false;
    options.probe_exe.clear();
    options.only_name.clear();
    return scan(options)->choose(kind, "", chooser);
}

}  // namespace ctr::pluginhost
