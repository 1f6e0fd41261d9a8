/*
 * runtime-example: a small but real container runtime plugin in plain C11,
 * built against ctr/plugin.h alone. It shows a third-party author what a
 * runtime must do, and proves that a runtime can replace runtime-linux
 * without any change to the host (`container run --runtime example ...`).
 *
 * A container here is the bundle's process, run chrooted into the bundle's
 * rootfs in new PID, mount, UTS and IPC namespaces, with /proc mounted inside.
 * It joins a network namespace the spec names by path (the host wires it);
 * no cgroups, no seccomp, no terminal: those are what
 * runtime-linux adds. The plugin passes the runtime rules of the conformance
 * suite (docs/plugin-requirements.md). JSON through jansson, as
 * runtime-minimal (docs/plugins.md says why).
 */
#define _GNU_SOURCE
#include <ctr/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 256
#define MAX_ENV 256
#define STACK_SIZE (256 * 1024)

/* ---- records -------------------------------------------------------------- */

typedef enum { ST_CREATED, ST_RUNNING, ST_STOPPED } cstate;

typedef struct proc_rec {
    char exec_id[128];        /* "" for the container's own process */
    pid_t pid;
    int exited;               /* reaped: exit_code/signal are final */
    int exit_code, signal;
    struct proc_rec *next;
} proc_rec;

typedef struct container {
    char id[128];
    char bundle[4096];
    cstate state;
    int start_fd;             /* write end: one byte releases the process */
    int exec_err_fd;          /* read end: errno from a failed execve, EOF on success */
    proc_rec init;
    proc_rec *execs;
    struct container *next;
} container;

struct ctr_plugin {
    ctr_host host;
    pthread_mutex_t mu;
    container *containers;
};

/* ---- errors, logging, results ---------------------------------------------- */

static int32_t fail(ctr_error *err, int32_t status, const char *fmt, ...) {
    if (err && err->struct_size >= CTR_ERROR_MIN_SIZE) {
        err->status = status;
        if (err->message && err->message_capacity > 0) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err->message, err->message_capacity, fmt, ap);
            va_end(ap);
        }
    }
    return status;
}

static void logf_(struct ctr_plugin *p, int32_t level, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (p->host.log) p->host.log(p->host.host_data, level, buf, strlen(buf));
}

static int32_t emit(const ctr_sink *out, const char *text, ctr_error *err) {
    if (!out || out->struct_size < CTR_SINK_MIN_SIZE || !out->write) return CTR_OK;
    if (out->write(out->ctx, text, strlen(text)) != 0)
        return fail(err, CTR_E_RESOURCE_EXHAUSTED, "result sink refused the result");
    return CTR_OK;
}

/* Emits `doc` (and drops it): NULL (json_pack failed) is out of memory. */
static int32_t emit_json(const ctr_sink *out, json_t *doc, ctr_error *err) {
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    int32_t rc = text ? emit(out, text, err) : fail(err, CTR_E_RESOURCE_EXHAUSTED, "out of memory");
    free(text);
    return rc;
}

/* Parses a request object and rejects fields not in `allowed` (NULL-terminated). */
static json_t *parse_request(const char *req, size_t len, const char *const *allowed, ctr_error *err) {
    json_t *j = json_loadb(req ? req : "", req ? len : 0, 0, NULL), *v;
    const char *key;
    if (!j) {
        fail(err, CTR_E_INVALID_ARGUMENT, "request is not valid json");
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        fail(err, CTR_E_INVALID_ARGUMENT, "request is not a json object");
        return NULL;
    }
    json_object_foreach(j, key, v) {
        int known = 0;
        for (const char *const *a = allowed; *a; a++) known |= strcmp(*a, key) == 0;
        if (!known) {
            fail(err, CTR_E_INVALID_ARGUMENT, "unknown request field \"%s\"", key);
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

/* object[key] as a string, or NULL when absent or not a string. */
static const char *get_string(const json_t *object, const char *key) {
    return json_string_value(json_object_get(object, key));
}

static const char *required_id(const json_t *req, ctr_error *err) {
    const char *id = get_string(req, "id");
    if (!id || !*id) {
        fail(err, CTR_E_INVALID_ARGUMENT, "missing field \"id\"");
        return NULL;
    }
    return id;
}

/* ---- process bookkeeping ----------------------------------------------------- */

static void record_exit(proc_rec *pr, int wstatus) {
    pr->exited = 1;
    if (WIFEXITED(wstatus)) {
        pr->exit_code = WEXITSTATUS(wstatus);
        pr->signal = 0;
    } else if (WIFSIGNALED(wstatus)) {
        pr->signal = WTERMSIG(wstatus);
        pr->exit_code = 128 + pr->signal;
    }
}

/* Reaps pr if it has exited; only ever waits on our own pids. Caller holds mu. */
static void poll_exit(proc_rec *pr) {
    int ws = 0;
    if (pr->exited || pr->pid <= 0) return;
    pid_t r = waitpid(pr->pid, &ws, WNOHANG);
    if (r == pr->pid) record_exit(pr, ws);
    else if (r < 0 && errno == ECHILD) { /* reaped elsewhere: treat as gone */
        pr->exited = 1;
        pr->exit_code = 255;
    }
}

static void refresh(container *c) {
    poll_exit(&c->init);
    if (c->init.exited) c->state = ST_STOPPED;
    for (proc_rec *e = c->execs; e; e = e->next) poll_exit(e);
}

static container *find(struct ctr_plugin *p, const char *id) {
    for (container *c = p->containers; c; c = c->next)
        if (strcmp(c->id, id) == 0) return c;
    return NULL;
}

static const char *state_name(cstate s) {
    return s == ST_CREATED ? "created" : s == ST_RUNNING ? "running" : "stopped";
}

/* ---- the container's first process ---------------------------------------------- */

/* Everything the child needs, prepared before clone so that the child only
 * makes system calls (it may be a copy of a multi-threaded process). */
typedef struct launch {
    char rootfs[4096];
    char proc_dir[4200];
    char cwd[1024];
    char hostname[256];
    char *argv[MAX_ARGS + 1];
    char *envp[MAX_ENV + 1];
    const char *path_env;     /* PATH from envp, for the executable search */
    int start_rd, start_wr;   /* start pipe: the child closes its copy of the write end */
    int err_wr;               /* exec error pipe */
    int stdio[3];             /* fds to install as 0, 1, 2 */
    int root_fd;              /* exec: the container's root directory, or -1 */
    int ns_fds[4];            /* exec: ipc, uts, mnt, net namespaces to join, or -1 */
    int net_fd;               /* create: the network namespace the spec names, or -1 */
} launch;

static void child_fail(int err_wr, int e) {
    if (write(err_wr, &e, sizeof e) < 0) { /* nothing more can be done */ }
    _exit(e == ENOENT ? 127 : 126);
}

/* execve with a PATH search done by hand: execvp would read the host's PATH. */
static void exec_in_path(const launch *l) {
    const char *file = l->argv[0];
    if (strchr(file, '/')) {
        execve(file, l->argv, l->envp);
        return;
    }
    const char *path = l->path_env ? l->path_env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int saved = ENOENT;
    while (*path) {
        char buf[4096];
        size_t n = strcspn(path, ":");
        if (n > 0 && n + strlen(file) + 2 < sizeof buf) {
            memcpy(buf, path, n);
            buf[n] = '/';
            strcpy(buf + n + 1, file);
            execve(buf, l->argv, l->envp);
            if (errno != ENOENT) saved = errno;
        }
        path += n;
        if (*path == ':') path++;
    }
    errno = saved;
}

static void install_stdio(const launch *l) {
    for (int i = 0; i < 3; i++)
        if (l->stdio[i] >= 0 && dup2(l->stdio[i], i) < 0) child_fail(l->err_wr, errno);
}

static int init_main(void *arg) {
    const launch *l = arg;
    char go = 0;
    close(l->start_wr);
    /* Wait for start(); EOF means the container was deleted before it ran. */
    if (read(l->start_rd, &go, 1) != 1) _exit(0);
    /* The host made and wired this namespace (its network plugin did). */
    if (l->net_fd >= 0 && setns(l->net_fd, CLONE_NEWNET) != 0) child_fail(l->err_wr, errno);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) child_fail(l->err_wr, errno);
    if (l->hostname[0] && sethostname(l->hostname, strlen(l->hostname)) != 0) child_fail(l->err_wr, errno);
    struct stat st;
    if (stat(l->proc_dir, &st) == 0 && S_ISDIR(st.st_mode) &&
        mount("proc", l->proc_dir, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        child_fail(l->err_wr, errno);
    install_stdio(l);
    if (chroot(l->rootfs) != 0 || chdir("/") != 0) child_fail(l->err_wr, errno);
    if (chdir(l->cwd) != 0) child_fail(l->err_wr, errno);
    exec_in_path(l);
    child_fail(l->err_wr, errno);
    return 0;
}

static int exec_main(void *arg) {
    const launch *l = arg;
    for (int i = 0; i < 4; i++)
        if (l->ns_fds[i] >= 0 && setns(l->ns_fds[i], 0) != 0) child_fail(l->err_wr, errno);
    install_stdio(l);
    if (fchdir(l->root_fd) != 0 || chroot(".") != 0 || chdir(l->cwd) != 0) child_fail(l->err_wr, errno);
    exec_in_path(l);
    child_fail(l->err_wr, errno);
    return 0;
}

static pid_t clone_child(int (*fn)(void *), launch *l, int flags) {
    void *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -1;
    /* Without CLONE_VM the child gets its own copy of this stack; ours is freed at once. */
    pid_t pid = clone(fn, (char *)stack + STACK_SIZE, flags | SIGCHLD, l);
    int e = errno;
    munmap(stack, STACK_SIZE);
    errno = e;
    return pid;
}

/* Fills argv/envp/cwd of `l` from an OCI process object. */
static int32_t fill_process(launch *l, const json_t *process, ctr_error *err) {
    const json_t *args = json_object_get(process, "args"), *e;
    size_t n = 0, i;
    if (!json_is_array(args) || json_array_size(args) == 0)
        return fail(err, CTR_E_INVALID_ARGUMENT, "process.args must be a non-empty array");
    json_array_foreach(args, i, e) {
        if (!json_is_string(e)) return fail(err, CTR_E_INVALID_ARGUMENT, "process.args must hold strings");
        if (n == MAX_ARGS) return fail(err, CTR_E_INVALID_ARGUMENT, "process.args has more than %d entries", MAX_ARGS);
        l->argv[n++] = (char *)json_string_value(e);
    }
    l->argv[n] = NULL;
    n = 0;
    json_array_foreach(json_object_get(process, "env"), i, e) {
        const char *var = json_string_value(e);
        if (!var) return fail(err, CTR_E_INVALID_ARGUMENT, "process.env must hold strings");
        if (n == MAX_ENV) return fail(err, CTR_E_INVALID_ARGUMENT, "process.env has more than %d entries", MAX_ENV);
        if (strncmp(var, "PATH=", 5) == 0) l->path_env = var + 5;
        l->envp[n++] = (char *)var;
    }
    l->envp[n] = NULL;
    const char *cwd = get_string(process, "cwd");
    if (cwd && cwd[0] != '/') return fail(err, CTR_E_INVALID_ARGUMENT, "process.cwd must be absolute, not \"%s\"", cwd);
    snprintf(l->cwd, sizeof l->cwd, "%s", cwd ? cwd : "/");
    if (json_is_true(json_object_get(process, "terminal")))
        return fail(err, CTR_E_UNIMPLEMENTED, "the example runtime has no terminal support");
    return CTR_OK;
}

/* Opens the stdio paths of a request: absent stdin is /dev/null; absent
 * stdout/stderr are inherited. */
static int32_t open_stdio(const json_t *req, int fds[3], ctr_error *err) {
    static const char *const keys[3] = {"stdin", "stdout", "stderr"};
    for (int i = 0; i < 3; i++) fds[i] = -1;
    for (int i = 0; i < 3; i++) {
        const char *path = get_string(req, keys[i]);
        if (!path && i == 0) path = "/dev/null";
        if (!path) continue;
        fds[i] = open(path, (i == 0 ? O_RDONLY : O_WRONLY | O_APPEND | O_CREAT) | O_CLOEXEC, 0600);
        if (fds[i] < 0) {
            int e = errno;
            for (int k = 0; k < i; k++) if (fds[k] >= 0) close(fds[k]);
            return fail(err, CTR_E_INVALID_ARGUMENT, "open %s \"%s\": %s", keys[i], path, strerror(e));
        }
    }
    return CTR_OK;
}

static void close_stdio(int fds[3]) {
    for (int i = 0; i < 3; i++) if (fds[i] >= 0) close(fds[i]);
}

/* Reads the child's verdict: EOF = exec succeeded, 4 bytes = its errno. */
static int read_exec_error(int fd) {
    int e = 0;
    ssize_t n;
    do n = read(fd, &e, sizeof e); while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof e ? e : 0;
}

/* ---- operations ---------------------------------------------------------------- */

static const char *const kCreateFields[] = {"id", "bundle", "stdin", "stdout", "stderr", "terminal", "console_socket", NULL};

static int32_t op_create(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    json_t *r = parse_request(req, len, kCreateFields, err), *spec = NULL;
    int32_t rc = CTR_OK;
    launch *l = NULL;
    container *c = NULL;
    int fds[3] = {-1, -1, -1}, start_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    if (!r) return err->status;
    const char *id = required_id(r, err), *bundle = get_string(r, "bundle");
    if (!id) { rc = err->status; goto out; }
    if (strlen(id) >= sizeof c->id || strchr(id, '/')) { rc = fail(err, CTR_E_INVALID_ARGUMENT, "invalid id \"%s\"", id); goto out; }
    if (!bundle || bundle[0] != '/') { rc = fail(err, CTR_E_INVALID_ARGUMENT, "field \"bundle\" must be an absolute path"); goto out; }
    if (json_is_true(json_object_get(r, "terminal"))) { rc = fail(err, CTR_E_UNIMPLEMENTED, "the example runtime has no terminal support"); goto out; }

    pthread_mutex_lock(&p->mu);
    container *existing = find(p, id);
    pthread_mutex_unlock(&p->mu);
    if (existing) { rc = fail(err, CTR_E_ALREADY_EXISTS, "container \"%s\" already exists", id); goto out; }

    /* Read and check bundle/config.json. */
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", bundle);
    json_error_t why;
    if (!(spec = json_load_file(path, 0, &why))) {
        rc = errno == ENOENT ? fail(err, CTR_E_NOT_FOUND, "open \"%s\": %s", path, strerror(ENOENT))
                             : fail(err, CTR_E_INVALID_ARGUMENT, "\"%s\": %s", path, why.text);
        goto out;
    }
    if (!json_is_object(spec)) { rc = fail(err, CTR_E_INVALID_ARGUMENT, "\"%s\" is not a json object", path); goto out; }

    l = calloc(1, sizeof *l);
    c = calloc(1, sizeof *c);
    if (!l || !c) { rc = fail(err, CTR_E_RESOURCE_EXHAUSTED, "out of memory"); goto out; }
    const json_t *process = json_object_get(spec, "process");
    if (!process) { rc = fail(err, CTR_E_INVALID_ARGUMENT, "config.json has no \"process\""); goto out; }
    if ((rc = fill_process(l, process, err)) != CTR_OK) goto out;
    const char *root = get_string(json_object_get(spec, "root"), "path");
    if (!root) { rc = fail(err, CTR_E_INVALID_ARGUMENT, "config.json has no root.path"); goto out; }
    if (root[0] == '/') snprintf(l->rootfs, sizeof l->rootfs, "%s", root);
    else snprintf(l->rootfs, sizeof l->rootfs, "%s/%s", bundle, root);
    struct stat st;
    if (stat(l->rootfs, &st) != 0 || !S_ISDIR(st.st_mode)) { rc = fail(err, CTR_E_NOT_FOUND, "rootfs \"%s\" is not a directory", l->rootfs); goto out; }
    snprintf(l->proc_dir, sizeof l->proc_dir, "%s/proc", l->rootfs);
    const char *hostname = get_string(spec, "hostname");
    snprintf(l->hostname, sizeof l->hostname, "%s", hostname ? hostname : "");
    /* A network namespace with a path is joined; without one, this example
     * stays in the caller's (it makes no network of its own). */
    l->net_fd = -1;
    size_t i;
    const json_t *ns;
    json_array_foreach(json_object_get(json_object_get(spec, "linux"), "namespaces"), i, ns) {
        const char *type = get_string(ns, "type"), *nspath = get_string(ns, "path");
        if (!type || strcmp(type, "network") != 0 || !nspath) continue;
        if ((l->net_fd = open(nspath, O_RDONLY | O_CLOEXEC)) < 0) { rc = fail(err, CTR_E_NOT_FOUND, "network namespace \"%s\": %s", nspath, strerror(errno)); goto out; }
    }

    if ((rc = open_stdio(r, fds, err)) != CTR_OK) goto out;
    if (pipe2(start_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) { rc = fail(err, CTR_E_RESOURCE_EXHAUSTED, "pipe: %s", strerror(errno)); goto out; }
    l->start_rd = start_pipe[0];
    l->start_wr = start_pipe[1];
    l->err_wr = err_pipe[1];
    memcpy(l->stdio, fds, sizeof fds);
    l->root_fd = -1;

    pid_t pid = clone_child(init_main, l, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC);
    if (pid < 0) {
        int e = errno;
        rc = fail(err, e == EPERM ? CTR_E_PERMISSION_DENIED : CTR_E_INTERNAL, "clone: %s", strerror(e));
        goto out;
    }
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->bundle, sizeof c->bundle, "%s", bundle);
    c->state = ST_CREATED;
    c->init.pid = pid;
    c->start_fd = start_pipe[1];
    c->exec_err_fd = err_pipe[0];
    start_pipe[1] = err_pipe[0] = -1;
    pthread_mutex_lock(&p->mu);
    c->next = p->containers;
    p->containers = c;
    pthread_mutex_unlock(&p->mu);
    logf_(p, CTR_LOG_DEBUG, "created %s (pid %d)", c->id, (int)pid);
    c = NULL;
    rc = emit_json(out, json_pack("{s:s, s:i}", "id", id, "pid", (int)pid), err);
out:
    close_stdio(fds);
    if (start_pipe[0] >= 0) close(start_pipe[0]);
    if (start_pipe[1] >= 0) close(start_pipe[1]);
    if (err_pipe[0] >= 0) close(err_pipe[0]);
    if (err_pipe[1] >= 0) close(err_pipe[1]);
    free(c);
    if (l && l->net_fd >= 0) close(l->net_fd);
    free(l);
    json_decref(spec);
    json_decref(r);
    return rc;
}

static const char *const kIdOnly[] = {"id", NULL};

static int32_t op_start(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)out;
    json_t *r = parse_request(req, len, kIdOnly, err);
    if (!r) return err->status;
    int32_t rc = CTR_OK;
    const char *id = required_id(r, err);
    if (!id) { rc = err->status; goto out; }
    pthread_mutex_lock(&p->mu);
    container *c = find(p, id);
    if (c) refresh(c);
    cstate s = c ? c->state : ST_STOPPED;
    pthread_mutex_unlock(&p->mu);
    if (!c) { rc = fail(err, CTR_E_NOT_FOUND, "no container \"%s\"", id); goto out; }
    if (s != ST_CREATED) { rc = fail(err, CTR_E_FAILED_PRECONDITION, "container \"%s\" is %s, not created", id, state_name(s)); goto out; }
    char go = 1;
    if (write(c->start_fd, &go, 1) != 1) { rc = fail(err, CTR_E_INTERNAL, "release container process: %s", strerror(errno)); goto out; }
    close(c->start_fd);
    c->start_fd = -1;
    int e = read_exec_error(c->exec_err_fd);
    close(c->exec_err_fd);
    c->exec_err_fd = -1;
    pthread_mutex_lock(&p->mu);
    c->state = ST_RUNNING;
    pthread_mutex_unlock(&p->mu);
    if (e != 0)  /* the process exits 127/126; wait() reports it */
        rc = fail(err, e == ENOENT ? CTR_E_NOT_FOUND : CTR_E_PERMISSION_DENIED, "cannot run the container's process: %s", strerror(e));
out:
    json_decref(r);
    return rc;
}

static const char *const kKillFields[] = {"id", "signal", "all", NULL};

static int32_t op_kill(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)out;
    json_t *r = parse_request(req, len, kKillFields, err);
    if (!r) return err->status;
    int32_t rc = CTR_OK;
    const char *id = required_id(r, err);
    const json_t *sig = json_object_get(r, "signal");
    if (!id) { rc = err->status; goto out; }
    int signo = SIGTERM;
    if (sig) {
        if (!json_is_integer(sig) || json_integer_value(sig) < 1 || json_integer_value(sig) > 64) {
            rc = fail(err, CTR_E_INVALID_ARGUMENT, "field \"signal\" must be a signal number from 1 to 64");
            goto out;
        }
        signo = (int)json_integer_value(sig);
    }
    pthread_mutex_lock(&p->mu);
    container *c = find(p, id);
    if (c) refresh(c);
    if (!c) rc = fail(err, CTR_E_NOT_FOUND, "no container \"%s\"", id);
    else if (c->state == ST_STOPPED) rc = fail(err, CTR_E_FAILED_PRECONDITION, "container \"%s\" is not running", id);
    else if (kill(c->init.pid, signo) != 0) rc = fail(err, CTR_E_INTERNAL, "kill %d: %s", (int)c->init.pid, strerror(errno));
    pthread_mutex_unlock(&p->mu);
out:
    json_decref(r);
    return rc;
}

static int32_t op_state(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    json_t *r = parse_request(req, len, kIdOnly, err);
    if (!r) return err->status;
    int32_t rc = CTR_OK;
    const char *id = required_id(r, err);
    json_t *result = NULL;
    if (!id) { rc = err->status; goto out; }
    pthread_mutex_lock(&p->mu);
    container *c = find(p, id);
    if (c) {
        refresh(c);
        result = json_pack("{s:s, s:s, s:s, s:i, s:s}", "ociVersion", "1.0.2", "id", c->id, "status", state_name(c->state),
                           "pid", c->state == ST_STOPPED ? 0 : (int)c->init.pid, "bundle", c->bundle);
    }
    pthread_mutex_unlock(&p->mu);
    rc = c ? emit_json(out, result, err) : fail(err, CTR_E_NOT_FOUND, "no container \"%s\"", id);
out:
    json_decref(r);
    return rc;
}

static int pidfd_open_(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

static const char *const kWaitFields[] = {"id", "exec_id", "timeout_ms", NULL};

static int32_t op_wait(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    json_t *r = parse_request(req, len, kWaitFields, err);
    if (!r) return err->status;
    int32_t rc = CTR_OK;
    const char *id = required_id(r, err), *exec_id = get_string(r, "exec_id");
    const json_t *t = json_object_get(r, "timeout_ms");
    int timeout = -1;
    if (!id) { rc = err->status; goto out; }
    if (json_is_integer(t) && json_integer_value(t) >= 0) timeout = json_integer_value(t) > 2147483647 ? 2147483647 : (int)json_integer_value(t);
    pthread_mutex_lock(&p->mu);
    container *c = find(p, id);
    proc_rec *pr = NULL;
    if (c && (!exec_id || !*exec_id)) pr = &c->init;
    for (proc_rec *e = c ? c->execs : NULL; e && exec_id && *exec_id; e = e->next)
        if (strcmp(e->exec_id, exec_id) == 0) pr = e;
    pid_t pid = pr && !pr->exited ? pr->pid : 0;
    pthread_mutex_unlock(&p->mu);
    if (!c) { rc = fail(err, CTR_E_NOT_FOUND, "no container \"%s\"", id); goto out; }
    if (!pr) { rc = fail(err, CTR_E_NOT_FOUND, "no process \"%s\" in container \"%s\"", exec_id, id); goto out; }
    if (pid > 0) {
        int fd = pidfd_open_(pid);
        if (fd >= 0) {
            struct pollfd pfd = {fd, POLLIN, 0};
            int n;
            do n = poll(&pfd, 1, timeout); while (n < 0 && errno == EINTR);
            close(fd);
            if (n == 0) { rc = fail(err, CTR_E_DEADLINE_EXCEEDED, "container \"%s\" still running after %d ms", id, timeout); goto out; }
        }
        pthread_mutex_lock(&p->mu);
        if (!pr->exited) {
            int ws = 0;
            if (waitpid(pid, &ws, 0) == pid) record_exit(pr, ws);
        }
        if (pr == &c->init) c->state = ST_STOPPED;
        pthread_mutex_unlock(&p->mu);
    }
    char result[128];
    if (pr->signal) snprintf(result, sizeof result, "{\"exit_code\":%d,\"signal\":%d}", pr->exit_code, pr->signal);
    else snprintf(result, sizeof result, "{\"exit_code\":%d}", pr->exit_code);
    rc = emit(out, result, err);
out:
    json_decref(r);
    return rc;
}

static void free_container(container *c) {
    if (c->start_fd >= 0) close(c->start_fd);
    if (c->exec_err_fd >= 0) close(c->exec_err_fd);
    while (c->execs) {
        proc_rec *e = c->execs;
        c->execs = e->next;
        if (!e->exited) { kill(e->pid, SIGKILL); waitpid(e->pid, NULL, 0); }
        free(e);
    }
    free(c);
}

static const char *const kDeleteFields[] = {"id", "force", NULL};

static int32_t op_delete(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)out;
    json_t *r = parse_request(req, len, kDeleteFields, err);
    if (!r) return err->status;
    int32_t rc = CTR_OK;
    const char *id = required_id(r, err);
    int force = json_is_true(json_object_get(r, "force"));
    if (!id) { rc = err->status; goto out; }
    pthread_mutex_lock(&p->mu);
    container **link = &p->containers;
    while (*link && strcmp((*link)->id, id) != 0) link = &(*link)->next;
    container *c = *link;
    if (c) refresh(c);
    if (c && c->state == ST_RUNNING && !force) {
        rc = fail(err, CTR_E_FAILED_PRECONDITION, "container \"%s\" is running (use force)", id);
        c = NULL;
    } else if (c) {
        *link = c->next;
    }
    pthread_mutex_unlock(&p->mu);
    if (c) {  /* created or running (forced): kill the process and reap it */
        if (c->start_fd >= 0) { close(c->start_fd); c->start_fd = -1; }
        if (!c->init.exited) {
            kill(c->init.pid, SIGKILL);
            waitpid(c->init.pid, NULL, 0);
        }
        logf_(p, CTR_LOG_DEBUG, "deleted %s", id);
        free_container(c);
    }
out:
    json_decref(r);
    return rc;
}

static const char *const kExecFields[] = {"id", "exec_id", "process", "stdin", "stdout", "stderr", "console_socket", NULL};

static int32_t op_exec(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    json_t *r = parse_request(req, len, kExecFields, err);
    if (!r) return err->status;
    int32_t rc = CTR_OK;
    launch *l = calloc(1, sizeof *l);
    proc_rec *pr = calloc(1, sizeof *pr);
    int fds[3] = {-1, -1, -1}, err_pipe[2] = {-1, -1}, own_pidns = -1, pidns = -1;
    char path[128];
    const char *id = required_id(r, err), *exec_id = get_string(r, "exec_id");
    if (!l || !pr) { rc = fail(err, CTR_E_RESOURCE_EXHAUSTED, "out of memory"); goto out; }
    for (int i = 0; i < 4; i++) l->ns_fds[i] = -1;
    l->root_fd = -1;
    if (!id) { rc = err->status; goto out; }
    if (!exec_id || !*exec_id || strlen(exec_id) >= sizeof pr->exec_id) { rc = fail(err, CTR_E_INVALID_ARGUMENT, "field \"exec_id\" must be a non-empty string"); goto out; }
    const json_t *process = json_object_get(r, "process");
    if (!json_is_object(process)) { rc = fail(err, CTR_E_INVALID_ARGUMENT, "field \"process\" must be an object"); goto out; }
    if ((rc = fill_process(l, process, err)) != CTR_OK) goto out;

    pthread_mutex_lock(&p->mu);
    container *c = find(p, id);
    if (c) refresh(c);
    int running = c && c->state == ST_RUNNING;
    pid_t init_pid = c ? c->init.pid : 0;
    int dup_id = 0;
    for (proc_rec *e = c ? c->execs : NULL; e; e = e->next) dup_id |= strcmp(e->exec_id, exec_id) == 0;
    pthread_mutex_unlock(&p->mu);
    if (!c) { rc = fail(err, CTR_E_NOT_FOUND, "no container \"%s\"", id); goto out; }
    if (!running) { rc = fail(err, CTR_E_FAILED_PRECONDITION, "container \"%s\" is not running", id); goto out; }
    if (dup_id) { rc = fail(err, CTR_E_ALREADY_EXISTS, "exec id \"%s\" already used in \"%s\"", exec_id, id); goto out; }

    static const char *const ns[4] = {"ipc", "uts", "mnt", "net"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)init_pid, ns[i]);
        if ((l->ns_fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) { rc = fail(err, CTR_E_INTERNAL, "open %s: %s", path, strerror(errno)); goto out; }
    }
    snprintf(path, sizeof path, "/proc/%d/root", (int)init_pid);
    if ((l->root_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) { rc = fail(err, CTR_E_INTERNAL, "open %s: %s", path, strerror(errno)); goto out; }
    snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)init_pid);
    pidns = open(path, O_RDONLY | O_CLOEXEC);
    own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (pidns < 0 || own_pidns < 0) { rc = fail(err, CTR_E_INTERNAL, "open pid namespaces: %s", strerror(errno)); goto out; }
    if ((rc = open_stdio(r, fds, err)) != CTR_OK) goto out;
    memcpy(l->stdio, fds, sizeof fds);
    if (pipe2(err_pipe, O_CLOEXEC) != 0) { rc = fail(err, CTR_E_RESOURCE_EXHAUSTED, "pipe: %s", strerror(errno)); goto out; }
    l->err_wr = err_pipe[1];

    /* Joining a PID namespace affects only children made afterwards: enter it
     * for one clone, then return, so that the process is our direct child. */
    if (setns(pidns, CLONE_NEWPID) != 0) { rc = fail(err, CTR_E_INTERNAL, "setns pid: %s", strerror(errno)); goto out; }
    pid_t pid = clone_child(exec_main, l, 0);
    int e = errno;
    if (setns(own_pidns, CLONE_NEWPID) != 0) logf_(p, CTR_LOG_ERROR, "cannot return to own pid namespace: %s", strerror(errno));
    if (pid < 0) { rc = fail(err, CTR_E_INTERNAL, "clone: %s", strerror(e)); goto out; }
    close(err_pipe[1]);
    err_pipe[1] = -1;
    snprintf(pr->exec_id, sizeof pr->exec_id, "%s", exec_id);
    pr->pid = pid;
    pthread_mutex_lock(&p->mu);
    pr->next = c->execs;
    c->execs = pr;
    pthread_mutex_unlock(&p->mu);
    e = read_exec_error(err_pipe[0]);
    if (e != 0) {
        rc = fail(err, e == ENOENT ? CTR_E_NOT_FOUND : CTR_E_PERMISSION_DENIED, "cannot run the exec process: %s", strerror(e));
    } else {
        rc = emit_json(out, json_pack("{s:s, s:i}", "exec_id", exec_id, "pid", (int)pid), err);
    }
    pr = NULL;
out:
    close_stdio(fds);
    for (int i = 0; l && i < 4; i++) if (l->ns_fds[i] >= 0) close(l->ns_fds[i]);
    if (l && l->root_fd >= 0) close(l->root_fd);
    if (pidns >= 0) close(pidns);
    if (own_pidns >= 0) close(own_pidns);
    if (err_pipe[0] >= 0) close(err_pipe[0]);
    if (err_pipe[1] >= 0) close(err_pipe[1]);
    free(pr);
    free(l);
    json_decref(r);
    return rc;
}

static const char *const kResizeFields[] = {"id", "exec_id", "width", "height", NULL};

static int32_t op_resize(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)p; (void)out;
    json_t *r = parse_request(req, len, kResizeFields, err);
    if (!r) return err->status;
    json_decref(r);
    return fail(err, CTR_E_UNIMPLEMENTED, "the example runtime has no terminal support");
}

static int32_t op_stats(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    json_t *r = parse_request(req, len, kIdOnly, err);
    if (!r) return err->status;
    int32_t rc = CTR_OK;
    const char *id = required_id(r, err);
    if (!id) { rc = err->status; goto out; }
    pthread_mutex_lock(&p->mu);
    container *c = find(p, id);
    if (c) refresh(c);
    pid_t pid = c && c->state != ST_STOPPED ? c->init.pid : 0;
    pthread_mutex_unlock(&p->mu);
    if (!c) { rc = fail(err, CTR_E_NOT_FOUND, "no container \"%s\"", id); goto out; }
    /* Without cgroups, report the first process alone: its resident memory
     * and CPU time, from /proc. */
    unsigned long long rss_pages = 0, utime = 0, stime = 0;
    char path[64];
    if (pid > 0) {
        snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
        FILE *f = fopen(path, "re");
        if (f) { if (fscanf(f, "%*u %llu", &rss_pages) != 1) rss_pages = 0; fclose(f); }
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        f = fopen(path, "re");
        if (f) {
            char line[1024];
            if (fgets(line, sizeof line, f)) {
                char *after = strrchr(line, ')');
                if (!after || sscanf(after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) utime = stime = 0;
            }
            fclose(f);
        }
    }
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    char result[256];
    snprintf(result, sizeof result, "{\"cpu\":{\"usage_ns\":%llu},\"memory\":{\"usage\":%llu},\"pids\":{\"current\":%d}}",
             (utime + stime) * (1000000000ULL / (unsigned long long)(tick > 0 ? tick : 100)),
             rss_pages * (unsigned long long)page, pid > 0 ? 1 : 0);
    rc = emit(out, result, err);
out:
    json_decref(r);
    return rc;
}

/* ABI 1.2's pause, resume and update: without cgroups this runtime has no
 * freezer and no limits to change, and says so. */
static int32_t op_unsupported(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)p; (void)req; (void)len; (void)out;
    return fail(err, CTR_E_UNSUPPORTED, "the example runtime cannot pause, resume or update a container (it uses no cgroups)");
}

/* ABI 1.4's processes: left to the host, which lists the container's PID
 * namespace itself when a runtime answers unimplemented. */
static int32_t op_no_processes(ctr_plugin *p, const char *req, size_t len, const ctr_sink *out, ctr_error *err) {
    (void)p; (void)req; (void)len; (void)out;
    return fail(err, CTR_E_UNIMPLEMENTED, "the example runtime does not list processes");
}

/* ---- entry -------------------------------------------------------------------- */

static const ctr_runtime_v1 kTable = {
    sizeof(ctr_runtime_v1), 0,
    op_create, op_start, op_kill, op_state, op_wait, op_delete, op_exec, op_resize, op_stats,
    op_unsupported, op_unsupported, op_unsupported, op_no_processes,
};

static void destroy(ctr_plugin *p) {
    if (!p) return;
    while (p->containers) {  /* nothing outlives the instance */
        container *c = p->containers;
        p->containers = c->next;
        if (!c->init.exited) { kill(c->init.pid, SIGKILL); waitpid(c->init.pid, NULL, 0); }
        free_container(c);
    }
    pthread_mutex_destroy(&p->mu);
    free(p);
}

CTR_EXPORT int32_t ctr_plugin_entry_v1(const ctr_host *host, ctr_plugin_desc *desc, ctr_error *err) {
    if (!host || host->struct_size < CTR_HOST_MIN_SIZE || !desc || desc->struct_size < CTR_DESC_MIN_SIZE)
        return fail(err, CTR_E_INVALID_ARGUMENT, "host or descriptor struct missing or too small");
    if (host->abi_major != CTR_ABI_MAJOR || host->abi_minor_min > CTR_ABI_MINOR)
        return fail(err, CTR_E_UNSUPPORTED, "plugin speaks abi %d.%d, host offers %u.%u-%u.%u", CTR_ABI_MAJOR,
                    CTR_ABI_MINOR, host->abi_major, host->abi_minor_min, host->abi_major, host->abi_minor_max);
    struct ctr_plugin *p = calloc(1, sizeof *p);
    if (!p) return fail(err, CTR_E_RESOURCE_EXHAUSTED, "out of memory");
    memcpy(&p->host, host, sizeof p->host);  /* our 1.0 view; the strings stay valid until destroy */
    pthread_mutex_init(&p->mu, NULL);
    desc->abi_minor = CTR_ABI_MINOR < host->abi_minor_max ? CTR_ABI_MINOR : host->abi_minor_max;
    desc->kind = CTR_KIND_RUNTIME;
    desc->name = "example";
    desc->version = "1.0.0";
    desc->instance = p;
    desc->destroy = destroy;
    desc->runtime = &kTable;
    return CTR_OK;
}
