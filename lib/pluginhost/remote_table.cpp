// LoadedPlugin::load_remote: a table whose slots are calls to a plugin host
// process. One function per slot, made from a template over the slot's
// index, so that each knows the operation's name without a lookup.
#include <ctr/pluginhost/loader.hpp>

#include <ctr/pluginhost/remote.hpp>
#include <ctr/pluginhost/remote_ops.hpp>

#include <array>
#include <utility>

namespace ctr::pluginhost {

namespace {

RemotePlugin* remote_of(ctr_plugin* p) { return reinterpret_cast<RemotePlugin*>(p); }

template <size_t I>
int32_t op_slot(ctr_plugin* p, const char* req, size_t len, const ctr_sink* sink, ctr_error* err) {
    return remote_of(p)->call(kOpSlots[I].name, std::string_view(req, len), nullptr, sink, err);
}

template <size_t I>
int32_t progress_slot(ctr_plugin* p, const char* req, size_t len, const ctr_progress* progress, const ctr_sink* sink,
                      ctr_error* err) {
    return remote_of(p)->call(kOpSlots[I].name, std::string_view(req, len), progress, sink, err);
}

template <size_t I>
void* slot_function() {
    if constexpr (kOpSlots[I].progress) return reinterpret_cast<void*>(&progress_slot<I>);
    else return reinterpret_cast<void*>(&op_slot<I>);
}

template <size_t... I>
std::array<void*, kOpSlotCount> slot_functions(std::index_sequence<I...>) {
    return {slot_function<I>()...};
}

}  // namespace

Result<std::unique_ptr<LoadedPlugin>> LoadedPlugin::load_remote(const Manifest& m, const HostOffer& offer,
                                                                const RemoteOptions& options) {
    if (m.kind != CTR_KIND_NETWORK && m.kind != CTR_KIND_IMAGE)
        return make_error(CTR_E_INVALID_ARGUMENT, "only network and image plugins run in a plugin host");
    auto remote = CTR_TRY(RemotePlugin::start(m, offer, options));
    const nlohmann::json& hello = remote->hello();

    std::unique_ptr<LoadedPlugin> p(new LoadedPlugin());
    p->manifest_ = m;
    p->offer_ = offer;
    p->remote_version_ = hello.value("version", "");
    p->desc_.struct_size = sizeof(ctr_plugin_desc);
    p->desc_.abi_minor = hello.value("abi_minor", 0u);
    p->desc_.kind = m.kind;
    p->desc_.version = p->remote_version_.c_str();
    p->desc_.instance = reinterpret_cast<ctr_plugin*>(remote.get());
    void* table = m.kind == CTR_KIND_NETWORK ? static_cast<void*>(&p->network_) : static_cast<void*>(&p->image_);
    p->network_.struct_size = sizeof(ctr_network_v1);
    p->image_.struct_size = sizeof(ctr_image_v1);
    static const auto functions = slot_functions(std::make_index_sequence<kOpSlotCount>());
    // Only the slots the plugin fills: a caller's "is it provided?" check
    // (a null slot) gives the same answer as in-process.
    for (const auto& name : hello.value("slots", nlohmann::json::array())) {
        if (!name.is_string()) continue;
        for (size_t i = 0; i < kOpSlotCount; ++i)
            if (kOpSlots[i].kind == m.kind && name.get<std::string>() == kOpSlots[i].name)
                write_slot(table, kOpSlots[i], functions[i]);
    }
    p->remote_ = std::move(remote);
    return p;
}

}  // namespace ctr::pluginhost
