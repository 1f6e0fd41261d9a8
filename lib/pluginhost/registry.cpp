#include <ctr/pluginhost/registry.hpp>

#include <ctr/pluginhost/remote.hpp>

#include <ctr/sys/files.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

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

    // First what the manifests alone settle, in the order found; the plugins
    // that pass are probed or loaded after, side by side (below).
    struct Pending {
        size_t entry;
        Manifest manifest;
        HostOffer offer;
        bool load_kind = false;
    };
    std::vector<Pending> pending;
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
        e.state = outcome.state;
        e.reason = outcome.reason;
        if (outcome.state == PluginState::loaded) {
            bool load_kind = opt.load_kinds.empty() ||
                             std::find(opt.load_kinds.begin(), opt.load_kinds.end(), static_cast<int>(m.kind)) != opt.load_kinds.end();
            pending.push_back({reg->entries_.size(), m, offer, load_kind});
        }
        reg->entries_.push_back(std::move(e));
    }

    // Each plugin's probe, or its plugin host's start, is a process of its
    // own: they run side by side, which takes a daemon's start from the sum
    // of them to about the longest. A plugin that goes to a plugin host is
    // not probed first: that process is as disposable as the probe (a crash
    // or a hang in its init costs it alone, and says so the same way).
    // In-process loads stay one at a time, in the order found, after.
    std::mutex cache_mu;
    auto settle = [&](Pending& p) {
        PluginEntry& e = reg->entries_[p.entry];
        const Manifest& m = p.manifest;
        const bool remote = opt.load && p.load_kind && !opt.plugin_host_exe.empty() &&
                            (m.kind == CTR_KIND_NETWORK || m.kind == CTR_KIND_IMAGE);
        ProbeOutcome outcome{e.state, e.reason};
        if (!remote && !opt.probe_exe.empty()) {
            std::string key = fingerprint(m);
            bool cached = false;
            {
                std::lock_guard<std::mutex> lock(cache_mu);
                cached = cache.find(key, &outcome);
            }
            if (!cached) {
                outcome = run_probe(opt.probe_exe, m, p.offer, opt.probe_timeout_ms);
                std::lock_guard<std::mutex> lock(cache_mu);
                cache.put(key, outcome);
            }
        }
        if (remote) {
            auto loaded = LoadedPlugin::load_remote(m, p.offer, remote_options(opt, m));
            outcome = outcome_of(loaded ? ok() : Status(loaded.error()));
            if (loaded) e.plugin = std::move(*loaded);
        }
        e.state = outcome.state;
        e.reason = outcome.reason;
    };
    {
        std::atomic<size_t> next{0};
        auto worker = [&] {
            for (size_t i = next++; i < pending.size(); i = next++) settle(pending[i]);
        };
        // As many at once as there are CPUs: more would only stretch each
        // one's init towards its deadline.
        std::vector<std::thread> workers;
        const size_t n = std::min<size_t>(pending.size(), std::max(2u, std::thread::hardware_concurrency()));
        for (size_t t = 1; t < n; ++t) workers.emplace_back(worker);
        worker();
        for (auto& w : workers) w.join();
    }
    for (auto& p : pending) {
        PluginEntry& e = reg->entries_[p.entry];
        if (e.state == PluginState::loaded && !e.plugin && opt.load && p.load_kind) {
            auto loaded = LoadedPlugin::load(p.manifest, p.offer);
            ProbeOutcome outcome = outcome_of(loaded ? ok() : Status(loaded.error()));
            e.state = outcome.state;
            e.reason = outcome.reason;
            if (loaded) e.plugin = std::move(*loaded);
        }
        if (e.plugin) e.abi = std::to_string(CTR_ABI_MAJOR) + "." + std::to_string(e.plugin->abi_minor());
        if (e.state != PluginState::loaded) spdlog::debug("plugin {} {}: {}", e.name, state_name(e.state), e.reason);
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
