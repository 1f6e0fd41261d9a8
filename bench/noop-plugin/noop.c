/* A runtime plugin whose operations do nothing: the benchmark measures the
 * cost of the ABI itself (table indirection, sink, error struct), not of
 * any work behind it. Built with NOOP_IMAGE, an image plugin instead (for
 * the cost of a call into a plugin host process), whose pull reports
 * "events":N progress events and nothing else. */
#include <ctr/plugin.h>

#include <stdlib.h>
#include <string.h>

static int32_t noop(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)p; (void)req; (void)len; (void)err;
    if (out && out->write) return out->write(out->ctx, "{}", 2) ? CTR_E_RESOURCE_EXHAUSTED : CTR_OK;
    return CTR_OK;
}

#ifdef NOOP_IMAGE
static int32_t pull(ctr_plugin *p, const char *req, size_t len, const ctr_progress *progress, const ctr_sink *out,
                    ctr_error *err) {
    static const char event[] = "{\"id\":\"sha256:0\",\"action\":\"download\",\"current\":1024,\"total\":4096}";
    const char *n = req ? strstr(req, "\"events\":") : 0;
    int events = n ? atoi(n + 9) : 0;
    for (int i = 0; i < events && progress && progress->event; ++i) progress->event(progress->ctx, event, sizeof event - 1);
    return noop(p, req, len, out, err);
}

static const ctr_image_v1 image_table = {.struct_size = sizeof(ctr_image_v1), .pull = pull, .resolve = noop,
                                         .list = noop, .remove = noop, .prepare_rootfs = noop,
                                         .release_rootfs = noop};
#endif

static const ctr_runtime_v1 table = {.struct_size = sizeof(ctr_runtime_v1), .create = noop, .start = noop, .kill = noop,
                                     .state = noop, .wait = noop, .delete_container = noop, .exec = noop, .resize = noop,
                                     .stats = noop};

static void destroy(ctr_plugin *p) { (void)p; }

CTR_EXPORT int32_t ctr_plugin_entry_v1(const ctr_host *host, ctr_plugin_desc *desc, ctr_error *err) {
    (void)host; (void)err;
    desc->abi_minor = 0;
    desc->version = "1.0.0";
    desc->instance = 0;
    desc->destroy = destroy;
#ifdef NOOP_IMAGE
    desc->kind = CTR_KIND_IMAGE;
    desc->name = "bench-noop-image";
    desc->image = &image_table;
    (void)table;
#else
    desc->kind = CTR_KIND_RUNTIME;
    desc->name = "bench-noop";
    desc->runtime = &table;
#endif
    return CTR_OK;
}
