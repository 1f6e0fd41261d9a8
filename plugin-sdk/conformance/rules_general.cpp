// GEN rules: what every plugin, of any kind, must do.
#include "harness.hpp"

#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ctr::conformance {
namespace {

// A cheap operation of each kind, and a request it accepts.
struct BaseOp {
    ctr_op op;
    json request;
};

BaseOp base_op(const pluginhost::LoadedPlugin& p) {
    if (p.runtime()) return {p.runtime()->state, {{"id", "conformance-no-such-container"}}};
    if (p.network()) return {p.network()->list, json::object()};
    return {p.image()->list, json::object()};
}

Registrar gen1({"GEN-001", 0, "exports ctr_plugin_entry_v1, fills every v1 slot, and its kind and name match the manifest",
                [](Context& ctx) -> Status {
                    auto p = ctx.load();
                    if (!p) return failure("load: " + p.error().message);
                    return ok();
                }});

Registrar gen2({"GEN-002", 0, "declines with unsupported when the host offers only minors it does not speak",
                [](Context& ctx) -> Status {
                    auto p = ctx.load(1000, 1000);
                    if (p) return failure("plugin accepted abi minors 1000-1000, which no 1.0 plugin speaks");
                    if (p.error().status != CTR_E_UNSUPPORTED)
                        return failure(std::string("got ") + status_name(p.error().status) + " (" + p.error().message +
                                       "), want unsupported");
                    return ok();
                }});

Registrar gen3({"GEN-003", 0, "accepts a host struct larger than it knows (a newer host)",
                [](Context& ctx) -> Status {
                    auto lib_path = ctx.manifest.library;
                    // Load normally first to learn the entry works, then call the entry directly
                    // with a larger, zero-tailed host struct.
                    auto p = ctx.load();
                    if (!p) return failure("load: " + p.error().message);
                    void* handle = dlopen(lib_path.c_str(), RTLD_NOW | RTLD_LOCAL);
                    if (!handle) return failure("dlopen failed");
                    auto entry = reinterpret_cast<ctr_plugin_entry_v1_fn>(dlsym(handle, CTR_PLUGIN_ENTRY_V1_SYMBOL));
                    if (!entry) return failure("no entry symbol");
                    struct Bigger {
                        ctr_host host;
                        char future[64];
                    } big{};
                    std::string state = ctx.state_dir.string(), name = ctx.manifest.name, cfg = ctx.manifest.settings_json;
                    big.host.struct_size = sizeof big;
                    big.host.abi_major = CTR_ABI_MAJOR;
                    big.host.abi_minor_max = CTR_ABI_MINOR;
                    big.host.host_version = "conformance";
                    big.host.plugin_name = name.c_str();
                    big.host.state_dir = state.c_str();
                    big.host.config_json = cfg.c_str();
                    big.host.config_json_len = cfg.size();
                    ctr_plugin_desc desc{};
                    desc.struct_size = sizeof desc;
                    char msg[512] = {};
                    ctr_error err{sizeof err, 0, 0, sizeof msg, msg};
                    int32_t rc = entry(&big.host, &desc, &err);
                    if (rc != CTR_OK) return failure(std::string("entry with a larger host struct: ") + status_name(rc) + " " + msg);
                    if (desc.destroy) desc.destroy(desc.instance);
                    return ok();
                }});

Registrar gen4({"GEN-004", 0, "rejects unknown request fields with invalid argument",
                [](Context& ctx) -> Status {
                    auto p = ctx.load();
                    if (!p) return failure("load: " + p.error().message);
                    BaseOp b = base_op(**p);
                    json req = b.request;
                    req["conformance_unknown_field"] = 1;
                    return expect(call(b.op, (*p)->instance(), req), {CTR_E_INVALID_ARGUMENT}, "request with an unknown field");
                }});

Registrar gen5({"GEN-005", 0, "answers a request that is not json, or not an object, with invalid argument",
                [](Context& ctx) -> Status {
                    auto p = ctx.load();
                    if (!p) return failure("load: " + p.error().message);
                    BaseOp b = base_op(**p);
                    for (const char* bad : {"{\"id\":", "[1,2]", "", "\"text\"", "{\"a\":1}}"})
                        CTR_TRY_STATUS(expect(call(b.op, (*p)->instance(), std::string(bad)), {CTR_E_INVALID_ARGUMENT},
                                              std::string("request '") + bad + "'"));
                    return ok();
                }});

Registrar gen6({"GEN-006", 0, "errors carry a message, NUL-terminated, never written past the caller's buffer",
                [](Context& ctx) -> Status {
                    auto p = ctx.load();
                    if (!p) return failure("load: " + p.error().message);
                    BaseOp b = base_op(**p);
                    json req = b.request;
                    req["conformance_unknown_field"] = 1;
                    std::string text = req.dump();
                    for (uint32_t cap : {0u, 1u, 16u}) {
                        unsigned char buf[64];
                        std::memset(buf, 0xAA, sizeof buf);
                        ctr_error err{sizeof err, CTR_OK, 0, cap, reinterpret_cast<char*>(buf)};
                        int32_t rc = b.op((*p)->instance(), text.data(), text.size(), nullptr, &err);
                        if (rc == CTR_OK) return failure("a request with an unknown field succeeded");
                        if (err.status != rc) return failure("err.status differs from the returned status");
                        for (size_t i = cap; i < sizeof buf; ++i)
                            if (buf[i] != 0xAA)
                                return failure("wrote past a message buffer of " + std::to_string(cap) + " bytes");
                        if (cap > 0 && std::memchr(buf, 0, cap) == nullptr)
                            return failure("message not NUL-terminated in a buffer of " + std::to_string(cap) + " bytes");
                        if (cap == 16 && buf[0] == 0) return failure("error without a message");
                    }
                    return ok();
                }});

Registrar gen7({"GEN-007", 0, "writes nothing to stdout or stderr (it logs through the host)",
                [](Context& ctx) -> Status {
                    auto out = ctx.work / "stdout", errf = ctx.work / "stderr";
                    int saved1 = dup(1), saved2 = dup(2);
                    int f1 = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
                    int f2 = open(errf.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
                    dup2(f1, 1);
                    dup2(f2, 2);
                    {
                        auto p = ctx.load();
                        if (p) {
                            BaseOp b = base_op(**p);
                            (void)call(b.op, (*p)->instance(), b.request);
                            (void)call(b.op, (*p)->instance(), std::string("not json"));
                        }
                    }
                    fflush(stdout);
                    dup2(saved1, 1);
                    dup2(saved2, 2);
                    close(f1);
                    close(f2);
                    struct stat s1 {}, s2 {};
                    stat(out.c_str(), &s1);
                    stat(errf.c_str(), &s2);
                    if (s1.st_size != 0) return failure(std::to_string(s1.st_size) + " bytes written to stdout");
                    if (s2.st_size != 0) return failure(std::to_string(s2.st_size) + " bytes written to stderr");
                    return ok();
                }});

Registrar gen8({"GEN-008", 0, "can be destroyed and made again in one process",
                [](Context& ctx) -> Status {
                    for (int round = 0; round < 3; ++round) {
                        auto p = ctx.load();
                        if (!p) return failure("load round " + std::to_string(round) + ": " + p.error().message);
                        BaseOp b = base_op(**p);
                        Reply r = call(b.op, (*p)->instance(), b.request);
                        if (r.status == CTR_E_INTERNAL) return failure("call after reload: " + r.message);
                    }
                    return ok();
                }});

}  // namespace
}  // namespace ctr::conformance
