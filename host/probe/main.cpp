// container-plugin-probe --manifest FILE --state-dir DIR
//
// Loads one plugin in this throwaway process and prints the verdict as one
// JSON object: {"state":"loaded|skipped|failed","reason":"..."}. The host
// runs it before loading a plugin in-process for the first time, so that an
// init that crashes or hangs takes down this probe and not the host.
#include <ctr/base/log.hpp>
#include "build_config.hpp"
#include <ctr/pluginhost/loader.hpp>
#include <ctr/pluginhost/probe.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char** argv) {
    std::string manifest_file, state_dir;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--manifest") == 0) manifest_file = argv[i + 1];
        else if (std::strcmp(argv[i], "--state-dir") == 0) state_dir = argv[i + 1];
    }
    if (manifest_file.empty() || state_dir.empty()) {
        std::fprintf(stderr, "usage: container-plugin-probe --manifest FILE --state-dir DIR\n");
        return 2;
    }
    // The verdict goes to the original stdout; anything the plugin prints
    // (which it must not) goes to /dev/null and cannot corrupt it.
    int verdict_fd = dup(STDOUT_FILENO);
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (verdict_fd < 0 || devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0) return 3;
    ctr::log::init("container-plugin-probe", false);

    using namespace ctr::pluginhost;
    ProbeOutcome outcome;
    auto manifest = parse_manifest(manifest_file);
    if (!manifest) {
        outcome = {PluginState::failed, manifest.error().message};
    } else {
        HostOffer offer;
        offer.host_version = CTR_VERSION;
        offer.state_dir = state_dir;
        auto loaded = LoadedPlugin::load(*manifest, offer);
        outcome = outcome_of(loaded ? ctr::ok() : ctr::Status(loaded.error()));
    }
    std::string out = nlohmann::json{{"state", state_name(outcome.state)}, {"reason", outcome.reason}}.dump() + "\n";
    if (write(verdict_fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) return 3;
    return 0;
}
