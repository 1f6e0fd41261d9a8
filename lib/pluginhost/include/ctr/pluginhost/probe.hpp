// Probing: a plugin's first load happens in a separate process
// (container-plugin-probe), so that an init that crashes or hangs costs a
// child, not the host. Outcomes are cached per library and manifest
// fingerprint; a plugin is loaded in-process only after a successful probe.
#pragma once

#include <ctr/pluginhost/loader.hpp>
#include <ctr/pluginhost/manifest.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace ctr::pluginhost {

enum class PluginState { loaded, skipped, failed, duplicate };
const char* state_name(PluginState s);

struct ProbeOutcome {
    PluginState state = PluginState::failed;
    std::string reason;
};

// Maps a load() result to what `plugin ls` shows.
ProbeOutcome outcome_of(const Status& load_status);

// Identity of a plugin on disk: changes when its library or manifest does.
std::string fingerprint(const Manifest& m);

class ProbeCache {
public:
    explicit ProbeCache(std::filesystem::path file);  // empty path: no cache
    bool find(const std::string& key, ProbeOutcome* out) const;
    void put(const std::string& key, const ProbeOutcome& outcome);
    void save() const;  // atomic; failures are logged, not fatal

private:
    std::filesystem::path file_;
    nlohmann::json entries_ = nlohmann::json::object();
    bool dirty_ = false;
};

// Runs `probe_exe --manifest FILE --state-dir DIR` and reads its verdict.
ProbeOutcome run_probe(const std::filesystem::path& probe_exe, const Manifest& m, const HostOffer& offer,
                       int timeout_ms = 10000);

}  // namespace ctr::pluginhost
