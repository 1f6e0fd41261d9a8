// The conformance harness: numbered rules (docs/plugin-requirements.md), each
// run in a forked child so that a crash or a hang is a failed rule, not an
// aborted suite.
#pragma once

#include <ctr/pluginhost/loader.hpp>
#include <ctr/pluginhost/manifest.hpp>

#include <ctr/sdk/result.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ctr::conformance {

using json = nlohmann::json;

// What a rule works with, inside its child process.
struct Context {
    pluginhost::Manifest manifest;
    std::filesystem::path work;       // a fresh temporary directory, removed afterwards
    std::filesystem::path state_dir;  // the plugin's state directory (inside work)

    // Loads a new instance of the plugin under test, as the host would.
    Result<std::unique_ptr<pluginhost::LoadedPlugin>> load(uint32_t minor_min = 0,
                                                        uint32_t minor_max = CTR_ABI_MINOR) const;
};

struct Rule {
    std::string id;        // e.g. "RT-004"
    int kind;              // a ctr_kind, or 0 for every kind
    std::string title;     // what a plugin MUST do, in one line
    std::function<Status(Context&)> check;
    bool needs_root = false;
};

std::vector<Rule>& all_rules();

struct Registrar {
    explicit Registrar(Rule r) { all_rules().push_back(std::move(r)); }
};

// ---- helpers for rules ----

// The outcome of one call: status, message and result, for assertions.
struct Reply {
    int32_t status = CTR_OK;
    std::string message;
    json result;
};

Reply call(ctr_op op, ctr_plugin* instance, const std::string& request);
Reply call(ctr_op op, ctr_plugin* instance, const json& request);

// Fails unless `reply.status` is one of `allowed`; names the step.
Status expect(const Reply& reply, std::initializer_list<int32_t> allowed, const std::string& step);

Error failure(const std::string& why);

}  // namespace ctr::conformance
