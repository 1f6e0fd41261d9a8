// ctr/sdk/plugin.hpp: the C++ skeleton for writing a plugin.
//
// A plugin author subclasses one interface (Runtime, Network or Image),
// overrides the operations it provides, and writes one line:
//
//     CTR_SDK_PLUGIN(MyRuntime, "my-runtime", "1.0.0")
//
// The macro emits the exported C entry point. The skeleton then does what
// every plugin must do and nobody should write twice: version negotiation,
// struct-size checks, request parsing (a JSON object whose unknown fields are
// rejected), result encoding, error reporting into the caller's buffer, log
// forwarding, and an exception firewall around every call.
//
// Operations a plugin does not override answer CTR_E_UNIMPLEMENTED.
#pragma once

#include <ctr/plugin.h>
#include <ctr/sdk/result.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace ctr::sdk {

using json = nlohmann::json;

// ---- what the host gave the plugin ----------------------------------------

class Host {
public:
    explicit Host(const ctr_host& host) : host_(host) {}

    void log(ctr_log_level level, std::string_view message) const {
        if (host_.log) host_.log(host_.host_data, level, message.data(), message.size());
    }
    void debug(std::string_view m) const { log(CTR_LOG_DEBUG, m); }
    void info(std::string_view m) const { log(CTR_LOG_INFO, m); }
    void warn(std::string_view m) const { log(CTR_LOG_WARN, m); }
    void error(std::string_view m) const { log(CTR_LOG_ERROR, m); }

    std::string name() const { return host_.plugin_name ? host_.plugin_name : ""; }
    std::string state_dir() const { return host_.state_dir ? host_.state_dir : ""; }
    std::string host_version() const { return host_.host_version ? host_.host_version : ""; }
    uint32_t abi_minor_max() const { return host_.abi_minor_max; }

    // The manifest's [settings] table (an object, possibly empty).
    json settings() const {
        if (!host_.config_json || host_.config_json_len == 0) return json::object();
        json j = json::parse(host_.config_json, host_.config_json + host_.config_json_len,
                             nullptr, false);
        return j.is_object() ? j : json::object();
    }

private:
    ctr_host host_;
};

// ---- reading requests ------------------------------------------------------

// Parses a request: a JSON object whose keys are all in `allowed`.
inline Result<json> parse_request(const char* data, size_t len,
                                  std::initializer_list<std::string_view> allowed) {
    if (!data && len != 0) return make_error(CTR_E_INVALID_ARGUMENT, "request is null");
    json j = json::parse(data ? data : "", data ? data + len : nullptr, nullptr, false);
    if (j.is_discarded()) return make_error(CTR_E_INVALID_ARGUMENT, "request is not valid json");
    if (!j.is_object()) return make_error(CTR_E_INVALID_ARGUMENT, "request is not a json object");
    for (const auto& item : j.items()) {
        bool known = std::find(allowed.begin(), allowed.end(), item.key()) != allowed.end();
        if (!known)
            return make_error(CTR_E_INVALID_ARGUMENT, "unknown request field \"" + item.key() + "\"");
    }
    return j;
}

// Typed field access with errors that name the field.
inline Result<std::string> get_string(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end()) return make_error(CTR_E_INVALID_ARGUMENT, std::string("missing field \"") + key + "\"");
    if (!it->is_string()) return make_error(CTR_E_INVALID_ARGUMENT, std::string("field \"") + key + "\" must be a string");
    return it->get<std::string>();
}

inline Result<std::optional<std::string>> get_opt_string(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::optional<std::string>{};
    if (!it->is_string()) return make_error(CTR_E_INVALID_ARGUMENT, std::string("field \"") + key + "\" must be a string");
    return std::optional<std::string>{it->get<std::string>()};
}

inline Result<int64_t> get_int(const json& j, const char* key, std::optional<int64_t> fallback = {}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (fallback) return *fallback;
        return make_error(CTR_E_INVALID_ARGUMENT, std::string("missing field \"") + key + "\"");
    }
    if (!it->is_number_integer()) return make_error(CTR_E_INVALID_ARGUMENT, std::string("field \"") + key + "\" must be an integer");
    return it->get<int64_t>();
}

inline Result<bool> get_bool(const json& j, const char* key, bool fallback) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) return make_error(CTR_E_INVALID_ARGUMENT, std::string("field \"") + key + "\" must be true or false");
    return it->get<bool>();
}

// ---- progress reporting ----------------------------------------------------

class Progress {
public:
    explicit Progress(const ctr_progress* p) : p_(p && p->struct_size >= CTR_PROGRESS_MIN_SIZE ? p : nullptr) {}
    void event(const json& e) const {
        if (!p_ || !p_->event) return;
        std::string s = e.dump();
        p_->event(p_->ctx, s.data(), s.size());
    }
    bool cancelled() const { return p_ && p_->cancelled && p_->cancelled(p_->ctx) != 0; }

private:
    const ctr_progress* p_;
};

// ---- the interfaces --------------------------------------------------------

inline Error unimplemented(const char* op) {
    return make_error(CTR_E_UNIMPLEMENTED, std::string(op) + " is not implemented by this plugin");
}

// Shared by all kinds: the Host, and an optional init that may decline.
class PluginBase {
public:
    explicit PluginBase(const Host& host) : host_(host) {}
    virtual ~PluginBase() = default;
    PluginBase(const PluginBase&) = delete;
    PluginBase& operator=(const PluginBase&) = delete;

    // Called once after construction. Return CTR_E_UNAVAILABLE to decline
    // (the host shows the plugin as skipped, with the message as the reason).
    virtual Status init() { return ok(); }

protected:
    const Host& host() const { return host_; }

private:
    Host host_;
};

class Runtime : public PluginBase {
public:
    static constexpr ctr_kind kind = CTR_KIND_RUNTIME;
    using PluginBase::PluginBase;
    virtual Result<json> create(const json&) { return unimplemented("create"); }
    virtual Result<json> start(const json&) { return unimplemented("start"); }
    virtual Result<json> kill(const json&) { return unimplemented("kill"); }
    virtual Result<json> state(const json&) { return unimplemented("state"); }
    virtual Result<json> wait(const json&) { return unimplemented("wait"); }
    virtual Result<json> remove(const json&) { return unimplemented("delete"); }
    virtual Result<json> exec(const json&) { return unimplemented("exec"); }
    virtual Result<json> resize(const json&) { return unimplemented("resize"); }
    virtual Result<json> stats(const json&) { return unimplemented("stats"); }
    // Since ABI 1.2.
    virtual Result<json> pause(const json&) { return unimplemented("pause"); }
    virtual Result<json> resume(const json&) { return unimplemented("resume"); }
    virtual Result<json> update(const json&) { return unimplemented("update"); }
    // Since ABI 1.4.
    virtual Result<json> processes(const json&) { return unimplemented("processes"); }
};

class Network : public PluginBase {
public:
    static constexpr ctr_kind kind = CTR_KIND_NETWORK;
    using PluginBase::PluginBase;
    virtual Result<json> create_network(const json&) { return unimplemented("create_network"); }
    virtual Result<json> remove_network(const json&) { return unimplemented("remove_network"); }
    virtual Result<json> attach(const json&) { return unimplemented("attach"); }
    virtual Result<json> detach(const json&) { return unimplemented("detach"); }
    virtual Result<json> list(const json&) { return unimplemented("list"); }
};

class Image : public PluginBase {
public:
    static constexpr ctr_kind kind = CTR_KIND_IMAGE;
    using PluginBase::PluginBase;
    virtual Result<json> pull(const json&, const Progress&) { return unimplemented("pull"); }
    virtual Result<json> resolve(const json&) { return unimplemented("resolve"); }
    virtual Result<json> list(const json&) { return unimplemented("list"); }
    virtual Result<json> remove(const json&) { return unimplemented("remove"); }
    virtual Result<json> prepare_rootfs(const json&) { return unimplemented("prepare_rootfs"); }
    virtual Result<json> release_rootfs(const json&) { return unimplemented("release_rootfs"); }
    // 1.1
    virtual Result<json> tag(const json&) { return unimplemented("tag"); }
    virtual Result<json> save(const json&) { return unimplemented("save"); }
    virtual Result<json> load(const json&) { return unimplemented("load"); }
    virtual Result<json> push(const json&, const Progress&) { return unimplemented("push"); }
    virtual Result<json> import_rootfs(const json&) { return unimplemented("import_rootfs"); }
    // 1.3
    virtual Result<json> commit(const json&) { return unimplemented("commit"); }
};

// ---- the machinery behind the macro ------------------------------------------

namespace detail {

// Writes an error into the caller's buffer, truncating, never past capacity.
inline int32_t fail(ctr_error* err, const Error& e) {
    int32_t status = e.status == CTR_OK ? CTR_E_INTERNAL : e.status;
    if (err && err->struct_size >= CTR_ERROR_MIN_SIZE) {
        err->status = status;
        err->detail_code = e.detail_code;
        if (err->message && err->message_capacity > 0) {
            size_t n = std::min<size_t>(e.message.size(), err->message_capacity - 1);
            std::memcpy(err->message, e.message.data(), n);
            err->message[n] = '\0';
        }
    }
    return status;
}

inline int32_t emit(const ctr_sink* sink, const json& result, ctr_error* err) {
    if (!sink || sink->struct_size < CTR_SINK_MIN_SIZE || !sink->write || result.is_null()) return CTR_OK;
    std::string s = result.dump();
    if (sink->write(sink->ctx, s.data(), s.size()) != 0)
        return fail(err, make_error(CTR_E_RESOURCE_EXHAUSTED, "result sink refused the result"));
    return CTR_OK;
}

// The exception firewall: nothing thrown inside a plugin crosses the ABI.
template <class F>
int32_t guarded(ctr_error* err, F&& body) noexcept {
    try {
        return body();
    } catch (const std::exception& e) {
        return fail(err, make_error(CTR_E_INTERNAL, std::string("plugin threw: ") + e.what()));
    } catch (...) {
        return fail(err, make_error(CTR_E_INTERNAL, "plugin threw a non-standard exception"));
    }
}

template <class Iface>
struct Instance {
    ctr_host host;
    std::string name, version;
    std::unique_ptr<Iface> impl;
};

template <class Iface>
Iface& self(ctr_plugin* p) {
    return *reinterpret_cast<Instance<Iface>*>(p)->impl;
}

// One trampoline per operation: parse (rejecting unknown fields), call, encode.
#define CTR_SDK_DETAIL_OP(Iface, method, ...)                                              \
    [](ctr_plugin* p, const char* req, size_t len, const ctr_sink* out, ctr_error* err) noexcept \
        -> int32_t {                                                                       \
        return ::ctr::sdk::detail::guarded(err, [&]() -> int32_t {                         \
            if (!p) return fail(err, make_error(CTR_E_INVALID_ARGUMENT, "plugin instance is null")); \
            auto parsed = parse_request(req, len, {__VA_ARGS__});                          \
            if (!parsed) return fail(err, parsed.error());                                 \
            auto r = self<Iface>(p).method(*parsed);                                       \
            if (!r) return fail(err, r.error());                                           \
            return emit(out, *r, err);                                                     \
        });                                                                                \
    }

inline const ctr_runtime_v1 kRuntimeTable = {
    sizeof(ctr_runtime_v1), 0,
    CTR_SDK_DETAIL_OP(Runtime, create, "id", "bundle", "stdin", "stdout", "stderr", "terminal", "console_socket", "preserve_fds"),
    CTR_SDK_DETAIL_OP(Runtime, start, "id"),
    CTR_SDK_DETAIL_OP(Runtime, kill, "id", "signal", "all"),
    CTR_SDK_DETAIL_OP(Runtime, state, "id"),
    CTR_SDK_DETAIL_OP(Runtime, wait, "id", "exec_id", "timeout_ms"),
    CTR_SDK_DETAIL_OP(Runtime, remove, "id", "force"),
    CTR_SDK_DETAIL_OP(Runtime, exec, "id", "exec_id", "process", "stdin", "stdout", "stderr", "console_socket"),
    CTR_SDK_DETAIL_OP(Runtime, resize, "id", "exec_id", "width", "height"),
    CTR_SDK_DETAIL_OP(Runtime, stats, "id"),
    CTR_SDK_DETAIL_OP(Runtime, pause, "id"),
    CTR_SDK_DETAIL_OP(Runtime, resume, "id"),
    CTR_SDK_DETAIL_OP(Runtime, update, "id", "resources"),
    CTR_SDK_DETAIL_OP(Runtime, processes, "id"),
};

inline const ctr_network_v1 kNetworkTable = {
    sizeof(ctr_network_v1), 0,
    CTR_SDK_DETAIL_OP(Network, create_network, "name", "subnet", "gateway", "internal", "labels", "options", "pool"),
    CTR_SDK_DETAIL_OP(Network, remove_network, "name"),
    CTR_SDK_DETAIL_OP(Network, attach, "network", "container_id", "netns", "tap", "ifname", "ip", "mac", "aliases", "ports"),
    CTR_SDK_DETAIL_OP(Network, detach, "network", "container_id"),
    CTR_SDK_DETAIL_OP(Network, list, ""),
};

inline int32_t image_pull(ctr_plugin* p, const char* req, size_t len, const ctr_progress* progress,
                          const ctr_sink* out, ctr_error* err) noexcept {
    return guarded(err, [&]() -> int32_t {
        if (!p) return fail(err, make_error(CTR_E_INVALID_ARGUMENT, "plugin instance is null"));
        auto parsed = parse_request(req, len, {"reference", "platform", "max_concurrent_downloads", "auth"});
        if (!parsed) return fail(err, parsed.error());
        Progress prog(progress);
        auto r = self<Image>(p).pull(*parsed, prog);
        if (!r) return fail(err, r.error());
        return emit(out, *r, err);
    });
}

inline int32_t image_push(ctr_plugin* p, const char* req, size_t len, const ctr_progress* progress,
                          const ctr_sink* out, ctr_error* err) noexcept {
    return guarded(err, [&]() -> int32_t {
        if (!p) return fail(err, make_error(CTR_E_INVALID_ARGUMENT, "plugin instance is null"));
        auto parsed = parse_request(req, len, {"reference", "auth"});
        if (!parsed) return fail(err, parsed.error());
        Progress prog(progress);
        auto r = self<Image>(p).push(*parsed, prog);
        if (!r) return fail(err, r.error());
        return emit(out, *r, err);
    });
}

inline const ctr_image_v1 kImageTable = {
    sizeof(ctr_image_v1), 0,
    image_pull,
    CTR_SDK_DETAIL_OP(Image, resolve, "reference"),
    CTR_SDK_DETAIL_OP(Image, list, ""),
    CTR_SDK_DETAIL_OP(Image, remove, "reference"),
    CTR_SDK_DETAIL_OP(Image, prepare_rootfs, "reference", "container_id", "target"),
    CTR_SDK_DETAIL_OP(Image, release_rootfs, "container_id", "target"),
    CTR_SDK_DETAIL_OP(Image, tag, "source", "target"),
    CTR_SDK_DETAIL_OP(Image, save, "references", "output"),
    CTR_SDK_DETAIL_OP(Image, load, "input"),
    image_push,
    CTR_SDK_DETAIL_OP(Image, import_rootfs, "input", "reference"),
    CTR_SDK_DETAIL_OP(Image, commit, "reference", "base", "layer", "config"),
};

#undef CTR_SDK_DETAIL_OP

template <class Iface>
void destroy(ctr_plugin* p) noexcept {
    try {
        delete reinterpret_cast<Instance<Iface>*>(p);
    } catch (...) {  // a destructor that throws must not cross the ABI either
    }
}

// The body of ctr_plugin_entry_v1 for plugin class Impl.
template <class Impl>
int32_t entry(const ctr_host* host, ctr_plugin_desc* desc, ctr_error* err, const char* name,
              const char* version) noexcept {
    using Iface = std::conditional_t<std::is_base_of_v<Runtime, Impl>, Runtime,
                  std::conditional_t<std::is_base_of_v<Network, Impl>, Network, Image>>;
    static_assert(std::is_base_of_v<Iface, Impl>, "a plugin class derives from Runtime, Network or Image");
    return guarded(err, [&]() -> int32_t {
        if (!host || host->struct_size < CTR_HOST_MIN_SIZE)
            return fail(err, make_error(CTR_E_INVALID_ARGUMENT, "host struct is missing or too small"));
        if (!desc || desc->struct_size < CTR_DESC_MIN_SIZE)
            return fail(err, make_error(CTR_E_INVALID_ARGUMENT, "descriptor is missing or too small"));
        if (host->abi_major != CTR_ABI_MAJOR)
            return fail(err, make_error(CTR_E_UNSUPPORTED, "host speaks abi major " +
                                                               std::to_string(host->abi_major) + ", plugin speaks " +
                                                               std::to_string(CTR_ABI_MAJOR)));
        if (host->abi_minor_min > CTR_ABI_MINOR)
            return fail(err, make_error(CTR_E_UNSUPPORTED,
                                        "host needs abi minor >= " + std::to_string(host->abi_minor_min) +
                                            ", plugin speaks up to " + std::to_string(CTR_ABI_MINOR)));
        auto inst = std::make_unique<Instance<Iface>>();
        inst->host = *host;  // the pointers inside stay valid until destroy
        inst->name = name;
        inst->version = version;
        inst->impl = std::make_unique<Impl>(Host(inst->host));
        Status st = inst->impl->init();
        if (!st) return fail(err, st.error());

        desc->abi_minor = std::min<uint32_t>(CTR_ABI_MINOR, host->abi_minor_max);
        desc->kind = Iface::kind;
        desc->name = name;
        desc->version = version;
        desc->destroy = &destroy<Iface>;
        if constexpr (std::is_same_v<Iface, Runtime>) desc->runtime = &kRuntimeTable;
        if constexpr (std::is_same_v<Iface, Network>) desc->network = &kNetworkTable;
        if constexpr (std::is_same_v<Iface, Image>) desc->image = &kImageTable;
        desc->instance = reinterpret_cast<ctr_plugin*>(inst.release());
        return CTR_OK;
    });
}

}  // namespace detail
}  // namespace ctr::sdk

// Emits the plugin's exported entry point. Use once, in one .cpp file.
#define CTR_SDK_PLUGIN(ImplClass, plugin_name, plugin_version)                                   \
    extern "C" CTR_EXPORT int32_t ctr_plugin_entry_v1(const ctr_host* host, ctr_plugin_desc* desc, \
                                                      ctr_error* err) {                          \
        return ::ctr::sdk::detail::entry<ImplClass>(host, desc, err, plugin_name, plugin_version); \
    }
