/*
 * ctr/plugin.h: the plugin ABI of `container`, version 1.
 *
 * This header is the whole contract between the host (the daemon, the shim,
 * the conformance suite) and a plugin (a runtime, a network or an image
 * store). It is pure C11 so that plugins can be written in any language that
 * speaks the C calling convention. docs/abi.md explains the rules; the short
 * form is:
 *
 *  - A plugin exports exactly one symbol, ctr_plugin_entry_v1. Everything else
 *    is reached through the tables it fills in.
 *  - Every struct that crosses starts with `uint32_t struct_size` and only
 *    grows at the end. Released layouts are locked by a test.
 *  - The host offers a range of ABI minor versions; the plugin picks one.
 *  - Requests and results are JSON documents (pointer + length). Unknown
 *    request fields are an error (CTR_E_INVALID_ARGUMENT).
 *  - Errors are a status code plus a message written into a buffer the caller
 *    owns. Nothing allocated on one side is freed on the other, and no C++
 *    exception ever crosses.
 *  - Every function states which threads may call it (see "Threads" below).
 *
 * Threads. Tags used on every function pointer:
 *   [any-thread]     may be called concurrently from any thread.
 *   [per-object]     the host never runs two such calls on the same object
 *                    (container id, network name, image reference) at once;
 *                    calls on different objects may run concurrently.
 *   [main]           called from one thread at a time, never concurrently
 *                    with any other call into the same plugin instance.
 */
#ifndef CTR_PLUGIN_H
#define CTR_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- versions ----------------------------------------------------------- */

/* The major is part of the entry symbol's name; a new major is a new symbol. */
#define CTR_ABI_MAJOR 1
/* Minors only add: new fields at the end of structs, new table slots. */
#define CTR_ABI_MINOR 4

#if defined(_WIN32)
#define CTR_EXPORT __declspec(dllexport)
#else
#define CTR_EXPORT __attribute__((visibility("default")))
#endif

/* ---- status codes ------------------------------------------------------- */

/* A closed set, after the canonical status codes. Plugin-specific detail goes
 * in ctr_error.detail_code (values >= CTR_DETAIL_PLUGIN_BASE are free). */
typedef enum ctr_status {
    CTR_OK = 0,
    CTR_E_INVALID_ARGUMENT = 1,   /* the request is malformed or names a bad value */
    CTR_E_NOT_FOUND = 2,          /* the object named does not exist */
    CTR_E_ALREADY_EXISTS = 3,     /* an object with that name exists */
    CTR_E_FAILED_PRECONDITION = 4,/* the object is in the wrong state (e.g. not running) */
    CTR_E_UNAVAILABLE = 5,        /* the plugin cannot work on this host now; retry may help */
    CTR_E_UNIMPLEMENTED = 6,      /* the operation is not provided by this plugin */
    CTR_E_INTERNAL = 7,           /* a bug or an unexpected failure */
    CTR_E_PERMISSION_DENIED = 8,  /* the caller lacks a privilege */
    CTR_E_CANCELLED = 9,          /* the caller cancelled the operation */
    CTR_E_DEADLINE_EXCEEDED = 10, /* a timeout expired */
    CTR_E_UNSUPPORTED = 11,       /* a version or feature the plugin does not know */
    CTR_E_RESOURCE_EXHAUSTED = 12 /* out of addresses, space, memory ... */
} ctr_status;

#define CTR_DETAIL_PLUGIN_BASE 1000

/* ---- shared structs ----------------------------------------------------- */

/* An error report. The caller owns `message` (a buffer of message_capacity
 * bytes, which may be 0). On failure the callee sets status, may set
 * detail_code, and writes a NUL-terminated, lower-case, one-line message,
 * truncated to fit. The callee never writes past message_capacity. */
typedef struct ctr_error {
    uint32_t struct_size;
    int32_t status;            /* a ctr_status */
    int32_t detail_code;       /* 0, or plugin-specific (>= CTR_DETAIL_PLUGIN_BASE) */
    uint32_t message_capacity; /* bytes available at message, NUL included */
    char *message;             /* caller-owned */
} ctr_error;

/* A byte sink owned by the caller: the callee hands its result document to
 * write(), in one or more pieces. The data pointer is valid only during the
 * call; the sink copies what it keeps. write() returns 0, or non-zero when
 * the sink cannot take more (the callee then fails with CTR_E_RESOURCE_EXHAUSTED). */
typedef struct ctr_sink {
    uint32_t struct_size;
    uint32_t reserved;
    void *ctx;
    int32_t (*write)(void *ctx, const char *data, size_t len); /* [any-thread] */
} ctr_sink;

/* Progress events for long operations (image pull). event() receives one
 * JSON object per call, for example
 *   {"id":"sha256:...","action":"download","current":1024,"total":4096}
 * cancelled() returns non-zero once the caller wants the operation to stop;
 * the callee then returns CTR_E_CANCELLED at its next convenient point. */
typedef struct ctr_progress {
    uint32_t struct_size;
    uint32_t reserved;
    void *ctx;
    void (*event)(void *ctx, const char *json, size_t len); /* [any-thread] */
    int32_t (*cancelled)(void *ctx);                        /* [any-thread] */
} ctr_progress;

typedef enum ctr_log_level {
    CTR_LOG_TRACE = 0,
    CTR_LOG_DEBUG = 1,
    CTR_LOG_INFO = 2,
    CTR_LOG_WARN = 3,
    CTR_LOG_ERROR = 4
} ctr_log_level;

/* What the host gives a plugin. Every pointer stays valid until the plugin
 * instance is destroyed. Plugins never write to stdout or stderr, never call
 * exit(), and never install signal handlers: they log through log(). */
typedef struct ctr_host {
    uint32_t struct_size;
    uint32_t abi_major;      /* CTR_ABI_MAJOR of the host */
    uint32_t abi_minor_min;  /* the oldest minor the host still speaks */
    uint32_t abi_minor_max;  /* the newest minor the host speaks */
    const char *host_version;/* the host's version string, e.g. "0.1.0" */
    const char *plugin_name; /* the name from the plugin's manifest */
    const char *state_dir;   /* a directory that belongs to this plugin alone; it exists */
    const char *config_json; /* the manifest's [settings] table as a JSON object */
    size_t config_json_len;
    void *host_data;
    /* [any-thread] one log line, without a trailing newline. */
    void (*log)(void *host_data, int32_t level, const char *msg, size_t len);
    /* [any-thread] an optional host service by id, or NULL. No ids are defined in 1.0. */
    const void *(*get_extension)(void *host_data, const char *id);
} ctr_host;

/* ---- plugin kinds and their tables --------------------------------------- */

typedef enum ctr_kind {
    CTR_KIND_RUNTIME = 1,
    CTR_KIND_NETWORK = 2,
    CTR_KIND_IMAGE = 3
} ctr_kind;

/* A plugin instance, opaque to the host. */
typedef struct ctr_plugin ctr_plugin;

/* Every operation has this shape: a JSON request in, a JSON result out through
 * `result` (which may be written nothing when the operation has no result),
 * and a status. On failure `err` says why. docs/abi.md lists each request and
 * result document. */
typedef int32_t (*ctr_op)(ctr_plugin *plugin, const char *request, size_t request_len,
                          const ctr_sink *result, ctr_error *err);

/* A runtime: runs OCI bundles as containers. */
typedef struct ctr_runtime_v1 {
    uint32_t struct_size;
    uint32_t reserved;
    /* [per-object] {"id","bundle","stdin"?,"stdout"?,"stderr"?,"terminal"?,"console_socket"?,
     * "preserve_fds"?}
     * Creates the container from bundle/config.json; the process does not run yet.
     * Result: {"id","pid"?}. A second create with a live id: CTR_E_ALREADY_EXISTS.
     * preserve_fds N (optional, runc's --preserve-fds): the calling process's fds 3..N+2
     * go to the container as its fds 3..N+2; a runtime that passed them says so with
     * "preserve_fds":N in its result (a caller deletes a container whose result does not;
     * a runtime that knows nothing of the field refuses it as any unknown field). */
    ctr_op create;
    /* [per-object] {"id"}: runs the process of a created container.
     * Not in state "created": CTR_E_FAILED_PRECONDITION and no effect. */
    ctr_op start;
    /* [per-object] {"id","signal","all"?}: signals the process (all: every process).
     * A stopped container: CTR_OK or CTR_E_FAILED_PRECONDITION, never a crash. */
    ctr_op kill;
    /* [any-thread] {"id"}: result is the OCI state
     * {"ociVersion","id","status":"created|running|stopped","pid","bundle"}. */
    ctr_op state;
    /* [per-object] {"id","timeout_ms"?}: waits for the container's process to exit.
     * Result {"exit_code":N,"signal":S?}. timeout_ms < 0 or absent: no limit. */
    ctr_op wait;
    /* [per-object] {"id","force"?}: removes the container and what create made.
     * Idempotent: deleting an unknown or deleted id is CTR_OK.
     * A running container without force: CTR_E_FAILED_PRECONDITION. */
    ctr_op delete_container;
    /* [per-object] {"id","exec_id","process":{OCI process},"stdin"?,"stdout"?,"stderr"?,
     * "console_socket"?}: starts another process in a running container.
     * Result {"exec_id","pid"}. Its exit is reported by wait with {"id","exec_id"}. */
    ctr_op exec;
    /* [per-object] {"id","exec_id"?,"width","height"}: resizes the terminal. */
    ctr_op resize;
    /* [any-thread] {"id"}: result {"cpu":{"usage_ns"},"memory":{"usage","limit"},
     * "pids":{"current","limit"},"net":{...}?,"blkio":{...}?}; fields it cannot know are omitted. */
    ctr_op stats;
    /* Since 1.2. [per-object] {"id"}: freezes every process of a running container
     * (pause) or thaws them (resume). Not running (pause) or not paused (resume):
     * CTR_E_FAILED_PRECONDITION. A runtime that cannot: CTR_E_UNSUPPORTED. */
    ctr_op pause;
    ctr_op resume;
    /* Since 1.2. [per-object] {"id","resources":{OCI linux.resources: "memory"?,"cpu"?,"pids"?}}:
     * changes the limits of a running container in place. Result {} (or {"warnings":[...]}).
     * A limit the runtime cannot change: CTR_E_UNSUPPORTED naming it. */
    ctr_op update;
    /* Since 1.4. [any-thread] {"id"}: the processes of a running container (for `top`).
     * Result {"processes":[{"pid","ppid","command"}],"pid_namespace":"host"|"guest"}:
     * "host" pids are this host's numbers; "guest" ones are a VM's own. Not running:
     * CTR_E_FAILED_PRECONDITION. */
    ctr_op processes;
} ctr_runtime_v1;

/* A network provider: makes networks and attaches containers to them. */
typedef struct ctr_network_v1 {
    uint32_t struct_size;
    uint32_t reserved;
    /* [per-object] {"name","subnet"?,"gateway"?,"internal"?,"labels"?,"options"?,
     * "pool"?:{"subnet","prefix_length"}} (pool: where to carve a subnet when none is given).
     * Result: the network document (as list returns it). */
    ctr_op create_network;
    /* [per-object] {"name"}: removes a network with no endpoints.
     * Unknown name: CTR_E_NOT_FOUND. Endpoints attached: CTR_E_FAILED_PRECONDITION. */
    ctr_op remove_network;
    /* [per-object] {"network","container_id","netns"|"tap","ifname"?,"ip"?,"mac"?,"aliases"?,
     * "ports"?:[{"host_ip","host_port","container_port","protocol"}]} (aliases: DNS names;
     * ports: published on the host). Out of addresses: CTR_E_RESOURCE_EXHAUSTED.
     * Result (CNI-like): {"interfaces":[...],"ips":[{"address","gateway"}],"routes":[...],"dns":{...}}. */
    ctr_op attach;
    /* [per-object] {"network","container_id"}: idempotent, like delete. */
    ctr_op detach;
    /* [any-thread] {}: result [{"name","subnet","gateway","internal","endpoints":[...]}]. */
    ctr_op list;
} ctr_network_v1;

/* An operation that reports progress (pull, push): like ctr_op, with a
 * progress channel that may be NULL. */
typedef int32_t (*ctr_progress_op)(ctr_plugin *plugin, const char *request, size_t request_len,
                                   const ctr_progress *progress, const ctr_sink *result, ctr_error *err);

/* An image store: pulls images and prepares container root filesystems. */
typedef struct ctr_image_v1 {
    uint32_t struct_size;
    uint32_t reserved;
    /* [per-object] {"reference","platform"?,"max_concurrent_downloads"?,"auth"?}
     * Result {"reference","digest","config":{OCI image config}}. Progress through `progress`
     * (which may be NULL). */
    ctr_progress_op pull;
    /* [any-thread] {"reference"}: result {"reference","digest","config"}, and optionally
     * "layers" [{"digest","size"}] bottom first (history's sizes); CTR_E_NOT_FOUND if absent. */
    ctr_op resolve;
    /* [any-thread] {}: result [{"reference","digest","size","created"}]. */
    ctr_op list;
    /* [per-object] {"reference"}: removes the name and what only it used. */
    ctr_op remove;
    /* [per-object] {"reference","container_id","target"}: makes the container's root
     * filesystem at target (an empty directory). Result {"rootfs","config"}, and
     * optionally "writable_dir": where the container's own writes land (the
     * host measures it for `system df` and prune), and "lower_dirs": the layers
     * beneath it, top first (for `diff`, where the mount does not show them).
     * A stopped container holds no mounts: the host unmounts target then, and
     * calls prepare_rootfs again before the next start (or a copy); for a
     * container that has its root filesystem already, it mounts the same one
     * at target again, its writes kept (Result {"rootfs"}, config optional
     * then). */
    ctr_op prepare_rootfs;
    /* [per-object] {"container_id","target"}: undoes prepare_rootfs. Idempotent. */
    ctr_op release_rootfs;
    /* ---- 1.1: a host reads these only when the plugin chose minor >= 1 (and
     * a plugin built for 1.0 leaves them NULL). ---- */
    /* [per-object] {"source","target"}: another name for a stored image.
     * Result {"reference","digest"}. Unknown source: CTR_E_NOT_FOUND. */
    ctr_op tag;
    /* [any-thread] {"references":[...],"output"}: writes the images as an OCI
     * image layout in a tar file at output (an absolute path). Result {"size"}. */
    ctr_op save;
    /* [main] {"input"}: reads an OCI layout tar, or a `docker save` tar, at input
     * (an absolute path) and stores its images. Result {"loaded":[references]}. */
    ctr_op load;
    /* [per-object] {"reference","auth"?}: uploads a stored image to the registry its
     * name points at: blobs the registry lacks, then the manifest under its tag.
     * Result {"reference","digest"}. Progress as for pull, with action "upload". */
    ctr_progress_op push;
    /* [per-object] {"input","reference"}: makes a one-layer image named reference from a
     * root filesystem tarball at input (tar, gzip or zstd). Result {"reference","digest"}. */
    ctr_op import_rootfs;
    /* ---- 1.3 ---- */
    /* [per-object] {"reference","base"?,"layer"?,"config"}: an image made of base's
     * layers (none when base is absent or empty) plus, when given, the uncompressed
     * tar at layer (an absolute path; whiteouts as `.wh.` entries), with config
     * (an OCI image config: env, cmd, history, ...) as its config; the plugin sets
     * its rootfs.diff_ids. The builder's step: a hit or a new layer, kept by name.
     * Result {"reference","digest","config"}. Unknown base: CTR_E_NOT_FOUND. */
    ctr_op commit;
} ctr_image_v1;

/* ---- the entry point ---------------------------------------------------- */

/* Filled in by the plugin. The host zeroes it and sets struct_size to the
 * size it knows; the plugin writes only fields that fit in that size. */
typedef struct ctr_plugin_desc {
    uint32_t struct_size;
    uint32_t abi_minor;            /* the minor the plugin chose, within the host's range */
    int32_t kind;                  /* a ctr_kind */
    uint32_t reserved;
    const char *name;              /* static storage, e.g. "runtime-example" */
    const char *version;           /* static storage, the plugin's own version */
    ctr_plugin *instance;          /* passed back to every call */
    /* [main] called once when the host is done with the instance. */
    void (*destroy)(ctr_plugin *instance);
    /* Exactly one of these is set, matching kind. Static storage. */
    const ctr_runtime_v1 *runtime;
    const ctr_network_v1 *network;
    const ctr_image_v1 *image;
} ctr_plugin_desc;

/* The only exported symbol. [main]
 * Reads `host`, creates an instance and fills `desc`. Returns CTR_OK, or:
 *   CTR_E_UNSUPPORTED   no minor in [abi_minor_min, abi_minor_max] is one the plugin speaks;
 *   CTR_E_UNAVAILABLE   the plugin declines to run on this host (the message says why;
 *                       the host shows the plugin as skipped, not failed);
 *   anything else       a failure, with a message in err.
 * May be called again after destroy(); each call makes a new instance. */
typedef int32_t (*ctr_plugin_entry_v1_fn)(const ctr_host *host, ctr_plugin_desc *desc,
                                         ctr_error *err);
#define CTR_PLUGIN_ENTRY_V1_SYMBOL "ctr_plugin_entry_v1"

CTR_EXPORT int32_t ctr_plugin_entry_v1(const ctr_host *host, ctr_plugin_desc *desc,
                                       ctr_error *err);

/* The size of a struct up to and including one field: receivers use it to
 * check the minimum size of what they were handed, and it stays right when
 * later minors append fields. */
#define CTR_SIZE_THROUGH(type, field) \
    ((uint32_t)(offsetof(type, field) + sizeof(((type *)0)->field)))

/* Minimum sizes: the 1.0 layouts. */
#define CTR_HOST_MIN_SIZE CTR_SIZE_THROUGH(ctr_host, get_extension)
#define CTR_ERROR_MIN_SIZE CTR_SIZE_THROUGH(ctr_error, message)
#define CTR_SINK_MIN_SIZE CTR_SIZE_THROUGH(ctr_sink, write)
#define CTR_PROGRESS_MIN_SIZE CTR_SIZE_THROUGH(ctr_progress, cancelled)
#define CTR_DESC_MIN_SIZE CTR_SIZE_THROUGH(ctr_plugin_desc, image)
#define CTR_RUNTIME_V1_MIN_SIZE CTR_SIZE_THROUGH(ctr_runtime_v1, stats)
#define CTR_NETWORK_V1_MIN_SIZE CTR_SIZE_THROUGH(ctr_network_v1, list)
#define CTR_IMAGE_V1_MIN_SIZE CTR_SIZE_THROUGH(ctr_image_v1, release_rootfs)

#ifdef __cplusplus
}
#endif

#endif /* CTR_PLUGIN_H */
