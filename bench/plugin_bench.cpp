// plugin-bench: how long the host takes to discover and load every plugin,
// and what one call through the ABI costs next to a direct C++ call.
// Prints `metric NAME VALUE UNIT` lines (the format of ../shared bench peers).
#include <ctr/base/paths.hpp>
#include <ctr/pluginhost/call.hpp>
#include <ctr/pluginhost/host_env.hpp>
#include <ctr/pluginhost/manifest.hpp>
#include <ctr/pluginhost/registry.hpp>
#include <ctr/pluginhost/remote.hpp>
#include <ctr/sys/process.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double p95(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, v.size() * 95 / 100)];
}

// The direct call the ABI call is compared with: the same do-nothing work,
// a C++ function the compiler may not inline away.
[[gnu::noinline]] int32_t direct_noop(std::string& out, const char*, size_t) {
    out.append("{}", 2);
    return CTR_OK;
}

}  // namespace

// A call into a plugin host process (the daemon's image and network
// plugins) against the same call in-process, on a plugin that does nothing:
// `list`, and a `pull` that reports 1000 progress events.
int remote_figures(const char* state_dir) {
    using namespace ctr::pluginhost;
    auto manifest = parse_manifest(std::filesystem::path(BENCH_NOOP_IMAGE_DIR) / "config.toml");
    if (!manifest) return 1;
    HostOffer offer;
    offer.state_dir = state_dir;
    RemoteOptions ro;
    ro.host_exe = helper_path("container-plugin-host");
    auto local = LoadedPlugin::load(*manifest, offer);
    auto remote = LoadedPlugin::load_remote(*manifest, offer, ro);
    if (!local || !remote) {
        std::fprintf(stderr, "plugin-bench: %s\n", (!local ? local.error() : remote.error()).message.c_str());
        return 1;
    }
    auto list_ns = [](const LoadedPlugin& p) {
        std::vector<double> rounds;
        constexpr int kCalls = 20000;
        for (int round = 0; round < 11; ++round) {
            auto a = Clock::now();
            for (int i = 0; i < kCalls; ++i)
                if (!invoke_raw(p.image()->list, p.instance(), "{}", "list")) return -1.0;
            rounds.push_back(std::chrono::duration<double, std::nano>(Clock::now() - a).count() / kCalls);
        }
        return median(rounds);
    };
    auto pull_us = [](const LoadedPlugin& p) {
        std::vector<double> rounds;
        const nlohmann::json request{{"reference", "bench"}, {"events", 1000}};
        for (int round = 0; round < 21; ++round) {
            int seen = 0;
            auto a = Clock::now();
            auto r = invoke_with_progress(p.image()->pull, "pull", p.instance(), request,
                                          [&](const nlohmann::json&) { ++seen; }, [] { return false; });
            if (!r || seen != 1000) return -1.0;
            rounds.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
        }
        return median(rounds);
    };
    double in_ns = list_ns(**local), out_ns = list_ns(**remote);
    double in_pull = pull_us(**local), out_pull = pull_us(**remote);
    if (in_ns < 0 || out_ns < 0 || in_pull < 0 || out_pull < 0) return 1;
    std::printf("metric plugin_host.call.in_process.median %.1f ns\n", in_ns);
    std::printf("metric plugin_host.call.remote.median %.1f ns\n", out_ns);
    std::printf("metric plugin_host.call.overhead %.1f us\n", (out_ns - in_ns) / 1000);
    std::printf("metric plugin_host.pull_1000_events.in_process.median %.1f us\n", in_pull);
    std::printf("metric plugin_host.pull_1000_events.remote.median %.1f us\n", out_pull);
    std::printf("metric plugin_host.progress_event.overhead %.2f us\n", (out_pull - in_pull) / 1000);
    std::printf("target plugin_host.call.overhead < 100 us: %s\n", (out_ns - in_ns) / 1000 < 100 ? "met" : "missed");
    return 0;
}

// --scan-once ROOT: one scan in this fresh process; prints its time in ms.
int scan_once(const char* root) {
    auto options = ctr::pluginhost::default_registry_options(ctr::Paths(root));
    auto s = Clock::now();
    auto reg = ctr::pluginhost::Registry::scan(options);
    std::printf("%.4f\n", std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    return 0;
}

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::off);
    if (argc == 3 && std::string(argv[1]) == "--scan-once") return scan_once(argv[2]);
    int runs = argc > 1 ? std::atoi(argv[1]) : 50;
    char tmpl[] = "/tmp/ctr-bench-XXXXXX";
    if (!mkdtemp(tmpl)) return 1;
    ctr::Paths paths(tmpl);
    auto options = ctr::pluginhost::default_registry_options(paths);

    // Cold: the first scan probes every plugin in a child process.
    auto t0 = Clock::now();
    auto first = ctr::pluginhost::Registry::scan(options);
    double cold_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    size_t loaded = std::count_if(first->entries().begin(), first->entries().end(),
                                  [](const auto& e) { return e.state == ctr::pluginhost::PluginState::loaded; });
    first.reset();

    // Warm: discovery, manifests, cache lookup, dlopen, entry, negotiation,
    // each in a fresh process (as the CLI, the daemon and each shim do), so
    // that no library is already mapped.
    std::vector<double> warm;
    for (int i = 0; i < runs; ++i) {
        auto r = ctr::sys::run_capture({ctr::pluginhost::self_exe().string(), "--scan-once", tmpl}, 10000);
        if (!r || !r->status.success()) return 1;
        warm.push_back(std::atof(r->out.c_str()));
    }

    // One ABI call against one direct call, on a plugin that does nothing.
    auto manifest = ctr::pluginhost::parse_manifest(std::filesystem::path(BENCH_NOOP_DIR) / "config.toml");
    if (!manifest) {
        std::fprintf(stderr, "plugin-bench: %s\n", manifest.error().message.c_str());
        return 1;
    }
    ctr::pluginhost::HostOffer offer;
    offer.state_dir = tmpl;
    auto noop = ctr::pluginhost::LoadedPlugin::load(*manifest, offer);
    if (!noop) return 1;
    const ctr_runtime_v1& rt = *(*noop)->runtime();
    const std::string request = R"({"id":"c1"})";
    constexpr int kCalls = 2'000'000;
    std::vector<double> abi_ns, direct_ns;
    for (int round = 0; round < 15; ++round) {
        auto a = Clock::now();
        for (int i = 0; i < kCalls; ++i) {
            auto r = ctr::pluginhost::invoke_raw(rt.state, (*noop)->instance(), request, "state");
            if (!r) return 1;
        }
        abi_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - a).count() / kCalls);
        auto d = Clock::now();
        for (int i = 0; i < kCalls; ++i) {
            std::string out;
            if (direct_noop(out, request.data(), request.size()) != CTR_OK) return 1;
        }
        direct_ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - d).count() / kCalls);
    }
    if (remote_figures(tmpl) != 0) return 1;
    std::filesystem::remove_all(tmpl);

    std::printf("metric plugins.loaded %zu count\n", loaded);
    std::printf("metric plugins.scan_cold %.3f ms\n", cold_ms);
    std::printf("metric plugins.scan_warm.median %.3f ms\n", median(warm));
    std::printf("metric plugins.scan_warm.p95 %.3f ms\n", p95(warm));
    std::printf("metric abi.call.median %.1f ns\n", median(abi_ns));
    std::printf("metric direct.call.median %.1f ns\n", median(direct_ns));
    std::printf("metric abi.call.overhead %.1f ns\n", median(abi_ns) - median(direct_ns));
    std::printf("target plugins.scan_warm.median < 5 ms: %s\n", median(warm) < 5 ? "met" : "missed");
    std::printf("target abi.call.overhead < 50 ns: %s\n", median(abi_ns) - median(direct_ns) < 50 ? "met" : "missed");
    return 0;
}
