/* runtime-minimal: the smallest runtime plugin that passes the conformance
 * rules. One process per container, in new PID, mount, UTS, IPC and network
 * namespaces (the network one empty: the spec's is not joined), chrooted into
 * the bundle's rootfs, with the spec's user, bounding capabilities and
 * no_new_privs. exec, resize and stats answer unimplemented. JSON through
 * jansson. `container plugin new --kind runtime` starts from this file
 * (docs/plugin-tutorial.md). */
#define _GNU_SOURCE
#include <ctr/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct box {  /* a container; go: start writes a byte; err: a failed exec's errno */
    char id[128], bundle[4096]; pid_t pid; int go, err, started, done, code; struct box *next;
} box;

struct ctr_plugin { pthread_mutex_t mu; box *boxes; };

static int32_t fail(ctr_error *err, int32_t status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if ((err->status = status) && err->message && err->message_capacity > 0) vsnprintf(err->message, err->message_capacity, fmt, ap);
    va_end(ap);
    return status;
}

static int32_t emit(const ctr_sink *out, json_t *doc, ctr_error *err) {
    char *text = json_dumps(doc, JSON_COMPACT);
    int bad = !text || out->write(out->ctx, text, strlen(text)) != 0;
    free(text), json_decref(doc);
    return bad ? fail(err, CTR_E_RESOURCE_EXHAUSTED, "cannot hand over the result") : CTR_OK;
}

/* The request as an object whose keys are all in `allowed` (" a b "), with its id. */
static json_t *parse(const char *req, size_t len, const char *allowed, const char **id, ctr_error *err) {
    json_t *r = json_loadb(req, len, 0, NULL), *v;
    const char *key, *bad = NULL;
    char word[80];
    json_object_foreach(r, key, v)
        if (!bad && (snprintf(word, sizeof word, " %s ", key), strchr(key, ' ') || !strstr(allowed, word))) bad = key;
    *id = json_string_value(json_object_get(r, "id"));
    int32_t st = !json_is_object(r) ? fail(err, CTR_E_INVALID_ARGUMENT, "the request is not a json object")
                 : bad ? fail(err, CTR_E_INVALID_ARGUMENT, "unknown request field \"%s\"", bad)
                 : !*id || !**id ? fail(err, CTR_E_INVALID_ARGUMENT, "missing field \"id\"") : CTR_OK;
    if (st) json_decref(r);
    return st ? NULL : r;
}

/* The container of that id, its exit noted if it has ended. Under p->mu. */
static box *find(ctr_plugin *p, const char *id) {
    box *b = p->boxes;
    while (b && strcmp(b->id, id) != 0) b = b->next;
    int st;
    if (b && !b->done && waitpid(b->pid, &st, WNOHANG) == b->pid) b->done = 1, b->code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return b;
}

/* Closes every fd from 3 up but those in keep[n]: others' pipes must not
 * stay open in this child, or their ends never see EOF. */
static void close_others(const int *keep, int n) {
    for (unsigned lo = 3, next = 0; next != ~0U; lo = next + 1) {
        next = ~0U;
        for (int i = 0; i < n; i++) next = keep[i] >= (int)lo && (unsigned)keep[i] < next ? (unsigned)keep[i] : next;
        if (next > lo) syscall(SYS_close_range, lo, next == ~0U ? ~0U : next - 1, 0);
    }
}

typedef struct launch {  /* what the child needs, ready before the fork; fds: stdin, stdout, stderr (or -1), go, err */
    const char *root, *host, *cwd; char **argv, **envp; uint64_t caps; int nnp, fds[5]; uid_t uid; gid_t gid;
} launch;

/* The container's first process, after fork: only system calls from here. */
static void child(const launch *l) {
    char byte, proc[4200];
    if (close_others(l->fds, 5), read(l->fds[3], &byte, 1) != 1) _exit(0);  /* deleted before it started */
    snprintf(proc, sizeof proc, "%s/proc", l->root);
    int e = mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) || sethostname(l->host, strlen(l->host)) ||
            mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) || chroot(l->root) || chdir(l->cwd);
    for (int i = 0; i < 3 && !e; i++) e = l->fds[i] >= 0 && dup2(l->fds[i], i) < 0;
    for (int c = 0; c <= CAP_LAST_CAP && !e; c++)
        if (!(l->caps >> c & 1)) e = prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0;
    if (!e) e = (l->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) || setgroups(0, NULL) || setgid(l->gid) || setuid(l->uid);
    if (!e) { environ = l->envp; execvp(l->argv[0], l->argv); }  /* PATH from the spec's env */
    int why = errno;
    (void)!write(l->fds[4], &why, sizeof why);
    _exit(why == ENOENT ? 127 : 126);
}

static char **strings(json_t *array) {  /* the array's strings, NULL-terminated; they stay the array's */
    char **v = calloc(json_array_size(array) + 1, sizeof *v);
    for (size_t i = 0; v && i < json_array_size(array); i++) v[i] = (char *)json_string_value(json_array_get(array, i));
    return v;
}

static int32_t op_create(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    const char *id, *bundle = NULL, *paths[3] = {NULL, NULL, NULL}, *rootfs = "rootfs";
    json_t *r = parse(req, len, " id bundle stdin stdout stderr terminal console_socket ", &id, err), *spec = NULL;
    if (!r) return err->status;
    int32_t rc = CTR_OK, go[2] = {-1, -1}, ex[2] = {-1, -1};
    char file[4200], root[4200];
    json_int_t uid = 0, gid = 0;
    launch l = {.host = "", .cwd = "/", .fds = {-1, -1, -1, -1, -1}};
    json_unpack(r, "{s?s, s?s, s?s, s?s}", "bundle", &bundle, "stdin", &paths[0], "stdout", &paths[1], "stderr", &paths[2]);
    pthread_mutex_lock(&p->mu);
    box *b = find(p, id);
    pthread_mutex_unlock(&p->mu);
    if (b) { rc = fail(err, CTR_E_ALREADY_EXISTS, "container \"%s\" already exists", id); goto out; }
    if (!bundle || strlen(id) >= sizeof ((box *)0)->id) { rc = fail(err, CTR_E_INVALID_ARGUMENT, "want an id and a bundle"); goto out; }
    snprintf(file, sizeof file, "%s/config.json", bundle);
    if (!(spec = json_load_file(file, 0, NULL))) { rc = fail(err, CTR_E_NOT_FOUND, "cannot read \"%s\"", file); goto out; }
    json_t *proc = json_object_get(spec, "process"), *bounding = json_object_get(json_object_get(proc, "capabilities"), "bounding");
    json_unpack(spec, "{s?{s?s}, s?s}", "root", "path", &rootfs, "hostname", &l.host);
    json_unpack(proc, "{s?s, s?b, s?{s?I, s?I}}", "cwd", &l.cwd, "noNewPrivileges", &l.nnp, "user", "uid", &uid, "gid", &gid);
    snprintf(root, sizeof root, "%s%s%s", rootfs[0] == '/' ? "" : bundle, rootfs[0] == '/' ? "" : "/", rootfs);
    cap_value_t c;
    for (size_t i = 0; i < json_array_size(bounding); i++)
        if (cap_from_name(json_string_value(json_array_get(bounding, i)), &c) == 0) l.caps |= 1ULL << c;
    l.root = root, l.uid = (uid_t)uid, l.gid = (gid_t)gid;
    l.argv = strings(json_object_get(proc, "args")), l.envp = strings(json_object_get(proc, "env"));
    if (!l.argv || !l.argv[0] || !l.envp) { rc = fail(err, CTR_E_INVALID_ARGUMENT, "the spec has no process.args"); goto out; }
    for (int i = 0; i < 3; i++)
        if (paths[i] && (l.fds[i] = open(paths[i], i ? O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC : O_RDONLY | O_CLOEXEC, 0644)) < 0)
            { rc = fail(err, CTR_E_NOT_FOUND, "open \"%s\": %s", paths[i], strerror(errno)); goto out; }
    if (pipe2(go, O_CLOEXEC) || pipe2(ex, O_CLOEXEC)) { rc = fail(err, CTR_E_RESOURCE_EXHAUSTED, "pipe: %s", strerror(errno)); goto out; }
    l.fds[3] = go[0], l.fds[4] = ex[1];
    /* clone(2) without a stack is fork(2) with new namespaces. */
    int pid = (int)syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid == 0) child(&l);
    if (pid < 0) { rc = fail(err, errno == EPERM ? CTR_E_PERMISSION_DENIED : CTR_E_INTERNAL, "clone: %s", strerror(errno)); goto out; }
    if (!(b = calloc(1, sizeof *b))) { kill(pid, SIGKILL), waitpid(pid, NULL, 0); rc = fail(err, CTR_E_RESOURCE_EXHAUSTED, "out of memory"); goto out; }
    snprintf(b->id, sizeof b->id, "%s", id), snprintf(b->bundle, sizeof b->bundle, "%s", bundle);
    b->pid = pid, b->go = go[1], b->err = ex[0], go[1] = ex[0] = -1;
    pthread_mutex_lock(&p->mu), b->next = p->boxes, p->boxes = b, pthread_mutex_unlock(&p->mu);
    rc = emit(out, json_pack("{s:s, s:i}", "id", id, "pid", (int)pid), err);
out:
    for (int i = 0; i < 3; i++) if (l.fds[i] >= 0) close(l.fds[i]);
    for (int i = 0; i < 2; i++) { if (go[i] >= 0) close(go[i]); if (ex[i] >= 0) close(ex[i]); }
    free(l.argv), free(l.envp), json_decref(spec), json_decref(r);
    return rc;
}

static void forget(ctr_plugin *p, box *b) {
    if (!b->done) kill(b->pid, SIGKILL), waitpid(b->pid, NULL, 0);
    for (box **at = &p->boxes; *at; at = &(*at)->next)
        if (*at == b) { *at = b->next; break; }
    close(b->go), close(b->err), free(b);
}

/* The operations on one container, each with its request's fields. */
enum verb { START, KILL, STATE, WAIT, DELETE };
static const char *const kFields[] = {" id ", " id signal all ", " id ", " id exec_id timeout_ms ", " id force "};

static int32_t on_box(ctr_plugin *p, enum verb v, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    const char *id;
    json_t *r = parse(req, len, kFields[v], &id, err);
    if (!r) return err->status;
    int32_t sig = (int32_t)json_integer_value(json_object_get(r, "signal")), force = json_is_true(json_object_get(r, "force")), why = 0, rc = CTR_OK;
    long left = json_object_get(r, "timeout_ms") ? (long)json_integer_value(json_object_get(r, "timeout_ms")) : -1;  /* < 0: no limit */
    pthread_mutex_lock(&p->mu);
    box *b = find(p, id);
    if (!b && v != DELETE) rc = fail(err, CTR_E_NOT_FOUND, "no container \"%s\"", id);
    else if (v == START && (b->started || b->done)) rc = fail(err, CTR_E_FAILED_PRECONDITION, "container \"%s\" is not created", id);
    else if (v == START) {
        b->started = 1;
        if (write(b->go, "", 1) != 1) rc = fail(err, CTR_E_INTERNAL, "start: %s", strerror(errno));
        else if (read(b->err, &why, sizeof why) == sizeof why)  /* else EOF: exec closed it */
            rc = fail(err, why == ENOENT ? CTR_E_NOT_FOUND : CTR_E_PERMISSION_DENIED, "cannot run the process: %s", strerror(why));
    } else if (v == KILL && b->done) rc = fail(err, CTR_E_FAILED_PRECONDITION, "container \"%s\" is not running", id);
    else if (v == KILL && kill(b->pid, sig ? sig : SIGTERM) != 0) rc = fail(err, CTR_E_INTERNAL, "kill: %s", strerror(errno));
    else if (v == STATE)
        rc = emit(out, json_pack("{s:s, s:s, s:s, s:i, s:s}", "ociVersion", "1.0.2", "id", id, "status",
                                 b->done ? "stopped" : b->started ? "running" : "created", "pid", (int)b->pid, "bundle", b->bundle), err);
    else if (v == WAIT && json_object_get(r, "exec_id")) rc = fail(err, CTR_E_NOT_FOUND, "runtime-minimal runs no exec processes");
    else if (v == WAIT) {
        while ((b = find(p, id)) && !b->done && left != 0) {  /* a poll: small beats clever here */
            pthread_mutex_unlock(&p->mu);
            usleep(10 * 1000);
            left = left > 10 ? left - 10 : left < 0 ? -1 : 0;
            pthread_mutex_lock(&p->mu);
        }
        rc = !b ? fail(err, CTR_E_NOT_FOUND, "container \"%s\" was deleted", id)
             : b->done ? emit(out, json_pack("{s:i}", "exit_code", b->code), err)
                       : fail(err, CTR_E_DEADLINE_EXCEEDED, "container \"%s\" still runs", id);
    } else if (v == DELETE && b && !b->done && b->started && !force) rc = fail(err, CTR_E_FAILED_PRECONDITION, "container \"%s\" is running", id);
    else if (v == DELETE && b) forget(p, b);
    pthread_mutex_unlock(&p->mu);
    json_decref(r);
    return rc;
}

#define VERB(name, v) \
    static int32_t op_##name(ctr_plugin *p, const char *q, size_t n, const ctr_sink *o, ctr_error *e) { return on_box(p, v, q, n, o, e); }
VERB(start, START) VERB(kill, KILL) VERB(state, STATE) VERB(wait, WAIT) VERB(delete, DELETE)

static int32_t op_none(ctr_plugin *p, const char *q, size_t n, const ctr_sink *o, ctr_error *e) {
    return (void)p, (void)q, (void)n, (void)o, fail(e, CTR_E_UNIMPLEMENTED, "runtime-minimal has no exec, resize or stats");
}

/* Designated, the 1.0 slots only: it builds against every minor's header, and
 * a host answers "unimplemented" for the slots a newer minor added. */
static const ctr_runtime_v1 kTable = {.struct_size = sizeof(ctr_runtime_v1), .create = op_create, .start = op_start, .kill = op_kill,
    .state = op_state, .wait = op_wait, .delete_container = op_delete, .exec = op_none, .resize = op_none, .stats = op_none};

static void destroy(ctr_plugin *p) {
    while (p->boxes) forget(p, p->boxes);  /* nothing outlives the instance */
    pthread_mutex_destroy(&p->mu);
    free(p);
}

CTR_EXPORT int32_t ctr_plugin_entry_v1(const ctr_host *host, ctr_plugin_desc *desc, ctr_error *err) {
    if (host->abi_major != CTR_ABI_MAJOR || host->abi_minor_min > CTR_ABI_MINOR)
        return fail(err, CTR_E_UNSUPPORTED, "runtime-minimal speaks abi 1.0-1.%d", CTR_ABI_MINOR);
    ctr_plugin *p = calloc(1, sizeof *p);
    if (!p || pthread_mutex_init(&p->mu, NULL)) return free(p), fail(err, CTR_E_RESOURCE_EXHAUSTED, "out of memory");
    desc->abi_minor = host->abi_minor_max > CTR_ABI_MINOR ? CTR_ABI_MINOR : host->abi_minor_max;
    desc->kind = CTR_KIND_RUNTIME, desc->name = "runtime-minimal", desc->version = "0.1.0";
    desc->instance = p, desc->destroy = destroy, desc->runtime = &kTable;
    return CTR_OK;
}
