/* A runtime plugin whose operations do nothing: the benchmark measures the
 * cost of the ABI itself (table indirection, sink, error struct), not of
 * any work behind it. */
#include <ctr/plugin.h>

static int32_t noop(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)p; (void)req; (void)len; (void)err;
    if (out && out->write) return out->write(out->ctx, "{}", 2) ? CTR_E_RESOURCE_EXHAUSTED : CTR_OK;
    return CTR_OK;
}

static const ctr_runtime_v1 table = {.struct_size = sizeof(ctr_runtime_v1), .create = noop, .start = noop, .kill = noop,
                                     .state = noop, .wait = noop, .delete_container = noop, .exec = noop, .resize = noop,
                                     .stats = noop};

static void destroy(ctr_plugin *p) { (void)p; }

CTR_EXPORT int32_t ctr_plugin_entry_v1(const ctr_host *host, ctr_plugin_desc *desc, ctr_error *err) {
    (void)host; (void)err;
    desc->abi_minor = 0;
    desc->kind = CTR_KIND_RUNTIME;
    desc->name = "bench-noop";
    desc->version = "1.0.0";
    desc->instance = 0;
    desc->destroy = destroy;
    desc->runtime = &table;
    return CTR_OK;
}
