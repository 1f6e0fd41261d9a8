#include <ctr/pluginhost/loader.hpp>

#include <ctr/pluginhost/remote.hpp>

#include <boost/dll/shared_library.hpp>
#include <spdlog/spdlog.h>

#include <cstring>
#include <fstream>
#include <mutex>
#include <vector>

namespace ctr::pluginhost {

namespace {

// Libraries stay mapped until the process ends (see loader.hpp).
void pin(boost::dll::shared_library lib) {
    static std::mutex mu;
    static auto* pinned = new std::vector<boost::dll::shared_library>();  // never destroyed, on purpose
    std::lock_guard<std::mutex> lock(mu);
    pinned->push_back(std::move(lib));
}

void host_log(void* host_data, int32_t level, const char* msg, size_t len) {
    const auto* name = static_cast<const std::string*>(host_data);
    std::string_view text(msg ? msg : "", msg ? len : 0);
    auto lvl = spdlog::level::info;
    switch (level) {
    case CTR_LOG_TRACE: lvl = spdlog::level::trace; break;
    case CTR_LOG_DEBUG: lvl = spdlog::level::debug; break;
    case CTR_LOG_INFO: lvl = spdlog::level::info; break;
    case CTR_LOG_WARN: lvl = spdlog::level::warn; break;
    default: lvl = spdlog::level::err; break;
    }
    spdlog::log(lvl, "plugin {}: {}", *name, text);
}

const void* host_get_extension(void*, const char*) { return nullptr; }

// Copies a plugin's table with the kernel's rule for structs that grow:
// an older (smaller) table is zero-filled, a newer (larger) one is cut to
// what this host knows. Then every 1.0 slot must be set.
template <class Table>
Status copy_table(const Table* from, Table* to, uint32_t min_size, const char* what) {
    if (!from) return make_error(CTR_E_INVALID_ARGUMENT, std::string("plugin gave no ") + what + " table");
    if (from->struct_size < min_size)
        return make_error(CTR_E_INVALID_ARGUMENT, std::string(what) + " table is " + std::to_string(from->struct_size) +
                                                      " bytes, want at least " + std::to_string(min_size));
    std::memset(to, 0, sizeof(Table));
    std::memcpy(to, from, std::min<size_t>(from->struct_size, sizeof(Table)));
    to->struct_size = sizeof(Table);
    // All slots of a v1 table are function pointers after the 8-byte header.
    const auto* slots = reinterpret_cast<const unsigned char*>(to) + 8;
    size_t count = (min_size - 8) / sizeof(void*);
    for (size_t i = 0; i < count; ++i) {
        void* fn = nullptr;
        std::memcpy(&fn, slots + i * sizeof(void*), sizeof fn);
        if (!fn)
            return make_error(CTR_E_INVALID_ARGUMENT, std::string(what) + " table slot " + std::to_string(i) +
                                                          " is null (every v1 slot is required)");
    }
    return ok();
}

}  // namespace

Status precheck(const Manifest& m, const HostOffer& offer) {
    if (m.abi_major != CTR_ABI_MAJOR)
        return make_error(CTR_E_UNSUPPORTED, "abi " + std::to_string(m.abi_major) + "." + std::to_string(m.abi_minor) +
                                                 " not supported: host speaks " + std::to_string(CTR_ABI_MAJOR) + "." +
                                                 std::to_string(offer.abi_minor_min) + "-" +
                                                 std::to_string(CTR_ABI_MAJOR) + "." + std::to_string(offer.abi_minor_max));
    if (m.abi_minor > offer.abi_minor_max)
        return make_error(CTR_E_UNSUPPORTED, "abi " + std::to_string(m.abi_major) + "." + std::to_string(m.abi_minor) +
                                                 " is newer than the host's " + std::to_string(CTR_ABI_MAJOR) + "." +
                                                 std::to_string(offer.abi_minor_max));
    std::ifstream f(m.library, std::ios::binary);
    if (!f) return make_error(CTR_E_NOT_FOUND, "library not found: " + m.library.string());
    char magic[4] = {};
    f.read(magic, 4);
    if (f.gcount() != 4 || std::memcmp(magic, "\x7f" "ELF", 4) != 0)
        return make_error(CTR_E_INVALID_ARGUMENT, "library is not an ELF shared object: " + m.library.string());
    return ok();
}

Result<std::unique_ptr<LoadedPlugin>> LoadedPlugin::load(const Manifest& m, const HostOffer& offer) {
    CTR_TRY_STATUS(precheck(m, offer));

    boost::dll::shared_library lib;
    try {  // Boost.DLL reports by exception; this adapter turns it into a value
        lib.load(m.library, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        return make_error(CTR_E_INVALID_ARGUMENT, "cannot load " + m.library.string() + ": " + e.what());
    }
    if (!lib.has(CTR_PLUGIN_ENTRY_V1_SYMBOL))
        return make_error(CTR_E_INVALID_ARGUMENT, std::string("missing entry symbol ") + CTR_PLUGIN_ENTRY_V1_SYMBOL +
                                                      " in " + m.library.string());
    auto entry = lib.get<int32_t(const ctr_host*, ctr_plugin_desc*, ctr_error*)>(CTR_PLUGIN_ENTRY_V1_SYMBOL);

    std::unique_ptr<LoadedPlugin> p(new LoadedPlugin());
    p->manifest_ = m;
    p->offer_ = offer;
    ctr_host& h = p->host_;
    h.struct_size = sizeof(ctr_host);
    h.abi_major = CTR_ABI_MAJOR;
    h.abi_minor_min = offer.abi_minor_min;
    h.abi_minor_max = offer.abi_minor_max;
    h.host_version = p->offer_.host_version.c_str();
    h.plugin_name = p->manifest_.name.c_str();
    h.state_dir = p->offer_.state_dir.c_str();
    h.config_json = p->manifest_.settings_json.c_str();
    h.config_json_len = p->manifest_.settings_json.size();
    h.host_data = &p->manifest_.name;
    h.log = &host_log;
    h.get_extension = &host_get_extension;

    ctr_plugin_desc& d = p->desc_;
    d.struct_size = sizeof(ctr_plugin_desc);
    char msg[1024] = {};
    ctr_error err{sizeof(ctr_error), CTR_OK, 0, sizeof msg, msg};
    int32_t rc = entry(&h, &d, &err);
    pin(std::move(lib));
    if (rc != CTR_OK) {
        std::string why = msg[0] ? msg : "no message";
        if (rc == CTR_E_UNAVAILABLE) return make_error(CTR_E_UNAVAILABLE, "declined: " + why);
        if (rc == CTR_E_UNSUPPORTED) return make_error(CTR_E_UNSUPPORTED, "negotiation failed: " + why);
        return make_error(CTR_E_INTERNAL, std::string("init failed (") + status_name(rc) + "): " + why);
    }

    // From here on the instance exists: on any error below, destroy it.
    auto reject = [&](const std::string& why) -> Error {
        if (d.destroy) d.destroy(d.instance);
        d.destroy = nullptr;
        return make_error(CTR_E_INVALID_ARGUMENT, why);
    };
    if (!d.destroy) return reject("plugin gave no destroy function");
    if (d.abi_minor < offer.abi_minor_min || d.abi_minor > offer.abi_minor_max)
        return reject("plugin chose abi minor " + std::to_string(d.abi_minor) + ", outside the host's " +
                      std::to_string(offer.abi_minor_min) + "-" + std::to_string(offer.abi_minor_max));
    if (d.kind != m.kind)
        return reject(std::string("plugin says it is a ") + kind_name(d.kind) + " plugin, manifest says " + kind_name(m.kind));
    if (!d.name || m.name != d.name)
        return reject("plugin calls itself \"" + std::string(d.name ? d.name : "") + "\", manifest says \"" + m.name + "\"");
    Status tables;
    switch (m.kind) {
    case CTR_KIND_RUNTIME: tables = copy_table(d.runtime, &p->runtime_, CTR_RUNTIME_V1_MIN_SIZE, "runtime"); break;
    case CTR_KIND_NETWORK: tables = copy_table(d.network, &p->network_, CTR_NETWORK_V1_MIN_SIZE, "network"); break;
    case CTR_KIND_IMAGE: tables = copy_table(d.image, &p->image_, CTR_IMAGE_V1_MIN_SIZE, "image"); break;
    }
    if (!tables) return reject(tables.error().message);
    return p;
}

LoadedPlugin::~LoadedPlugin() {
    if (desc_.destroy) desc_.destroy(desc_.instance);
}

}  // namespace ctr::pluginhost
