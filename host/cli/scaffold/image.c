/* @NAME@: an image plugin, as `container plugin new` made it. Its store is
 * empty: list answers [], every reference is unknown, release_rootfs
 * succeeds, and pull checks the reference, then answers unimplemented. That
 * passes every GEN and IMG rule of container-plugin-conformance; make pull
 * and prepare_rootfs real next (README.md). The operations and their requests
 * are documented in <ctr/plugin.h>. JSON through jansson. */
#define _GNU_SOURCE
#include <ctr/plugin.h>

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctr_plugin { int unused; };  /* your instance: the store, locks, the state dir */

@HELPERS@
/* Docker's reference grammar, in short: [domain/]path[:tag][@sha256:hex], the
 * path's components lowercase [a-z0-9] joined by . _ or -. */
static int valid_reference(const char *ref) {
    char name[512];
    const char *at = strchr(ref, '@');
    size_t n = at ? (size_t)(at - ref) : strlen(ref);
    if (at && (strncmp(at + 1, "sha256:", 7) != 0 || strlen(at + 8) != 64 || strspn(at + 8, "0123456789abcdef") != 64)) return 0;
    if (n == 0 || n >= sizeof name) return 0;
    memcpy(name, ref, n), name[n] = '\0';
    char *slash = strrchr(name, '/'), *colon = strrchr(name, ':');
    if (colon && (!slash || colon > slash)) {  /* a tag */
        *colon++ = '\0';
        if (!*colon || strlen(colon) > 128 || *colon == '.' || *colon == '-' || strspn(colon, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(colon)) return 0;
    }
    char *first_end = strchr(name, '/');
    int domain = first_end && (memchr(name, '.', (size_t)(first_end - name)) || memchr(name, ':', (size_t)(first_end - name)) ||
                               strncmp(name, "localhost/", 10) == 0);
    for (char *c = name, *end; c; c = *end ? end + 1 : NULL) {
        end = strchr(c, '/');
        if (!end) end = c + strlen(c);
        if (end == c) return 0;
        for (char *q = c; q < end; q++) {
            int ok = domain ? isalnum((unsigned char)*q) || strchr(".-:", *q) : islower((unsigned char)*q) || isdigit((unsigned char)*q) || strchr("._-", *q);
            if (!ok || (!domain && strchr("._-", *q) && (q == c || q + 1 == end))) return 0;
        }
        domain = 0;
    }
    return 1;
}

/* The request's "reference", checked; NULL with err set otherwise. */
static const char *reference(json_t *r, ctr_error *err) {
    json_t *v = json_object_get(r, "reference");
    const char *ref = json_string_value(v);
    if (!v) fail(err, CTR_E_INVALID_ARGUMENT, "missing field \"reference\"");
    else if (!ref || !valid_reference(ref)) fail(err, CTR_E_INVALID_ARGUMENT, "invalid reference \"%s\"", ref ? ref : "");
    else return ref;
    return NULL;
}

static int32_t op_pull(ctr_plugin *p, const char *req, size_t len, const ctr_progress *progress, const ctr_sink *out, ctr_error *err) {
    (void)p, (void)progress, (void)out;
    json_t *r = parse(req, len, " reference platform max_concurrent_downloads auth ", err);
    if (!r) return err->status;
    int32_t rc = reference(r, err) ? fail(err, CTR_E_UNIMPLEMENTED, "@NAME@ cannot pull yet") : err->status;
    json_decref(r);
    return rc;
}

/* resolve, remove and prepare_rootfs: nothing is stored, so the reference is unknown. */
static int32_t unknown(const char *req, size_t len, const char *allowed, ctr_error *err) {
    json_t *r = parse(req, len, allowed, err);
    if (!r) return err->status;
    const char *ref = reference(r, err);
    int32_t rc = ref ? fail(err, CTR_E_NOT_FOUND, "no image \"%s\"", ref) : err->status;
    json_decref(r);
    return rc;
}

static int32_t op_resolve(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    return (void)p, (void)out, unknown(req, len, " reference ", err);
}

static int32_t op_remove(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    return (void)p, (void)out, unknown(req, len, " reference ", err);
}

static int32_t op_prepare_rootfs(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    return (void)p, (void)out, unknown(req, len, " reference container_id target ", err);
}

static int32_t op_release_rootfs(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)p, (void)out;
    json_t *r = parse(req, len, " container_id target ", err);
    if (!r) return err->status;
    json_decref(r);
    return CTR_OK;  /* nothing was prepared: done */
}

static int32_t op_list(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)p;
    json_t *r = parse(req, len, " ", err);
    if (!r) return err->status;
    json_decref(r);
    return emit(out, json_array(), err);
}

/* The 1.0 slots; tag, save, load, push, import_rootfs (1.1) and commit (1.3)
 * left out answer unimplemented in the host. */
static const ctr_image_v1 kTable = {.struct_size = sizeof(ctr_image_v1), .pull = op_pull, .resolve = op_resolve,
    .list = op_list, .remove = op_remove, .prepare_rootfs = op_prepare_rootfs, .release_rootfs = op_release_rootfs};

static void destroy(ctr_plugin *p) { free(p); }

CTR_EXPORT int32_t ctr_plugin_entry_v1(const ctr_host *host, ctr_plugin_desc *desc, ctr_error *err) {
    if (host->abi_major != CTR_ABI_MAJOR || host->abi_minor_min > CTR_ABI_MINOR)
        return fail(err, CTR_E_UNSUPPORTED, "@NAME@ speaks abi 1.0-1.%d", CTR_ABI_MINOR);
    ctr_plugin *p = calloc(1, sizeof *p);
    if (!p) return fail(err, CTR_E_RESOURCE_EXHAUSTED, "out of memory");
    desc->abi_minor = host->abi_minor_max > CTR_ABI_MINOR ? CTR_ABI_MINOR : host->abi_minor_max;
    desc->kind = CTR_KIND_IMAGE, desc->name = "@NAME@", desc->version = "0.1.0";
    desc->instance = p, desc->destroy = destroy, desc->image = &kTable;
    return CTR_OK;
}
