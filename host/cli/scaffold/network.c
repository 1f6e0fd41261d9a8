/* @NAME@: a network plugin, as `container plugin new` made it. It has no
 * networks yet: list answers [], every name is unknown, detach succeeds, and
 * create_network checks its request, then answers unimplemented. That passes
 * every GEN and NET rule of container-plugin-conformance; make create_network
 * and attach real next (README.md). The operations and their requests are
 * documented in <ctr/plugin.h>. JSON through jansson. */
#define _GNU_SOURCE
#include <ctr/plugin.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctr_plugin { int unused; };  /* your instance: networks, locks, the state dir */

@HELPERS@
/* A string field that must be there; NULL with err set otherwise. */
static const char *need(json_t *r, const char *key, ctr_error *err) {
    const char *s = json_string_value(json_object_get(r, key));
    if (!s || !*s) fail(err, CTR_E_INVALID_ARGUMENT, "missing field \"%s\"", key);
    return s && *s ? s : NULL;
}

/* "a.b.c.d/n" or an IPv6 prefix, with no host bits set. */
static int valid_subnet(const char *s) {
    char addr[64];
    const char *slash = strchr(s, '/');
    unsigned char bytes[16];
    if (!slash || (size_t)(slash - s) >= sizeof addr) return 0;
    memcpy(addr, s, (size_t)(slash - s)), addr[slash - s] = '\0';
    int v6 = strchr(addr, ':') != NULL, bits = v6 ? 128 : 32;
    char *end;
    long prefix = strtol(slash + 1, &end, 10);
    if (!slash[1] || *end || prefix < 0 || prefix > bits || inet_pton(v6 ? AF_INET6 : AF_INET, addr, bytes) != 1) return 0;
    for (int bit = (int)prefix; bit < bits; bit++)
        if (bytes[bit / 8] >> (7 - bit % 8) & 1) return 0;
    return 1;
}

static int32_t op_create_network(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)p, (void)out;
    json_t *r = parse(req, len, " name subnet gateway internal labels options pool ", err);
    if (!r) return err->status;
    const char *name = need(r, "name", err), *subnet = json_string_value(json_object_get(r, "subnet"));
    int32_t rc = !name ? err->status
                 : subnet && !valid_subnet(subnet) ? fail(err, CTR_E_INVALID_ARGUMENT, "invalid subnet \"%s\"", subnet)
                 : fail(err, CTR_E_UNIMPLEMENTED, "@NAME@ cannot create networks yet");
    json_decref(r);
    return rc;
}

static int32_t op_remove_network(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)p, (void)out;
    json_t *r = parse(req, len, " name ", err);
    if (!r) return err->status;
    const char *name = need(r, "name", err);
    int32_t rc = name ? fail(err, CTR_E_NOT_FOUND, "no network \"%s\"", name) : err->status;
    json_decref(r);
    return rc;
}

static int32_t op_attach(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)p, (void)out;
    json_t *r = parse(req, len, " network container_id netns tap ifname ip mac aliases ports ", err);
    if (!r) return err->status;
    const char *network = need(r, "network", err), *id = network ? need(r, "container_id", err) : NULL;
    int32_t rc = id ? fail(err, CTR_E_NOT_FOUND, "no network \"%s\"", network) : err->status;
    json_decref(r);
    return rc;
}

static int32_t op_detach(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)p, (void)out;
    json_t *r = parse(req, len, " network container_id ", err);
    if (!r) return err->status;
    int32_t rc = need(r, "network", err) && need(r, "container_id", err) ? CTR_OK : err->status;  /* nothing attached: done */
    json_decref(r);
    return rc;
}

static int32_t op_list(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)p;
    json_t *r = parse(req, len, " ", err);
    if (!r) return err->status;
    json_decref(r);
    return emit(out, json_array(), err);
}

static const ctr_network_v1 kTable = {.struct_size = sizeof(ctr_network_v1), .create_network = op_create_network,
    .remove_network = op_remove_network, .attach = op_attach, .detach = op_detach, .list = op_list};

static void destroy(ctr_plugin *p) { free(p); }

CTR_EXPORT int32_t ctr_plugin_entry_v1(const ctr_host *host, ctr_plugin_desc *desc, ctr_error *err) {
    if (host->abi_major != CTR_ABI_MAJOR || host->abi_minor_min > CTR_ABI_MINOR)
        return fail(err, CTR_E_UNSUPPORTED, "@NAME@ speaks abi 1.0-1.%d", CTR_ABI_MINOR);
    ctr_plugin *p = calloc(1, sizeof *p);
    if (!p) return fail(err, CTR_E_RESOURCE_EXHAUSTED, "out of memory");
    desc->abi_minor = host->abi_minor_max > CTR_ABI_MINOR ? CTR_ABI_MINOR : host->abi_minor_max;
    desc->kind = CTR_KIND_NETWORK, desc->name = "@NAME@", desc->version = "0.1.0";
    desc->instance = p, desc->destroy = destroy, desc->network = &kTable;
    return CTR_OK;
}
