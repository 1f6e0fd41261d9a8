// Loads one plugin library in this process and negotiates with it.
//
// The library is opened with Boost.DLL (RTLD_NOW | RTLD_LOCAL) and is never
// closed while the process runs: a plugin may leave threads or atexit handlers
// behind, and unmapping its code under them would crash the host.
#pragma once

#include <ctr/pluginhost/manifest.hpp>

#include <ctr/plugin.h>
#include <ctr/sdk/result.hpp>

#include <memory>
#include <string>

namespace ctr::pluginhost {

class RemotePlugin;
struct RemoteOptions;

// What the host offers a plugin at load time.
struct HostOffer {
    std::string host_version;
    std::string state_dir;
    uint32_t abi_minor_min = 0;
    uint32_t abi_minor_max = CTR_ABI_MINOR;
};

class LoadedPlugin {
public:
    ~LoadedPlugin();
    LoadedPlugin(const LoadedPlugin&) = delete;
    LoadedPlugin& operator=(const LoadedPlugin&) = delete;

    const Manifest& manifest() const { return manifest_; }
    const std::string& name() const { return manifest_.name; }
    ctr_kind kind() const { return manifest_.kind; }
    uint32_t abi_minor() const { return desc_.abi_minor; }
    std::string plugin_version() const { return desc_.version ? desc_.version : ""; }
    ctr_plugin* instance() const { return desc_.instance; }

    // The plugin's table for its kind, copied into host storage and
    // zero-filled past what an older plugin provided. Null for other kinds.
    const ctr_runtime_v1* runtime() const { return kind() == CTR_KIND_RUNTIME ? &runtime_ : nullptr; }
    const ctr_network_v1* network() const { return kind() == CTR_KIND_NETWORK ? &network_ : nullptr; }
    const ctr_image_v1* image() const { return kind() == CTR_KIND_IMAGE ? &image_ : nullptr; }

    // Error status CTR_E_UNAVAILABLE or CTR_E_UNSUPPORTED means "skipped":
    // the plugin is fine but not for this host. Anything else is a failure.
    static Result<std::unique_ptr<LoadedPlugin>> load(const Manifest& manifest, const HostOffer& offer);
    // The same plugin in a plugin host process of its own (remote.hpp), for
    // network and image plugins: the tables' slots call across, so a caller
    // cannot tell, but a crash or a hang fails one call, not this process.
    static Result<std::unique_ptr<LoadedPlugin>> load_remote(const Manifest& manifest, const HostOffer& offer,
                                                             const RemoteOptions& options);
    // Set when loaded by load_remote.
    RemotePlugin* remote() const { return remote_.get(); }

private:
    LoadedPlugin() = default;

    Manifest manifest_;
    HostOffer offer_;
    ctr_host host_{};
    ctr_plugin_desc desc_{};
    ctr_runtime_v1 runtime_{};
    ctr_network_v1 network_{};
    ctr_image_v1 image_{};
    std::unique_ptr<RemotePlugin> remote_;
    std::string remote_version_;
};

// Checks done before a library is opened: ABI stated by the manifest, the
// file exists and is ELF. Status as for load().
Status precheck(const Manifest& manifest, const HostOffer& offer);

}  // namespace ctr::pluginhost
