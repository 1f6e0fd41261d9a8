/* container-shim-reaper: what stays of a shim while its container runs.
 *
 * The shim (a C++ program with a runtime plugin loaded) creates and starts
 * the container. When the runtime says the container's process is the
 * shim's own child and can be deleted by a fresh instance of the plugin
 * ("waitable_by_caller"), the shim execs this small static program in its
 * place: same pid, same child. It waits for the child and keeps marking
 * when the log files grow (sys/log_index.hpp: lines "OFFSET UNIX_NS" in
 * FILE.idx) and freeing their oldest bytes past their bound
 * (sys/log_bound.h), records the exit, then execs the shim again to delete the
 * container. A container pays this program's memory while it runs, not the
 * shim's.
 *
 *   container-shim-reaper PID STATE_DIR OUT_SIZE ERR_SIZE MAX_SIZE MAX_FILE -- SHIM_ARGV...
 *
 * OUT_SIZE and ERR_SIZE: how far the shim had marked stdout.log and
 * stderr.log; what came after gets a mark at once. MAX_SIZE and MAX_FILE:
 * the logs' bound (--log-opt; MAX_SIZE 0: unbounded).
 *
 * The shim is exec'd as SHIM_ARGV plus "--exit-code N --exit-signal S".
 * Single-threaded: poll on a pidfd and an inotify fd. */
#define _GNU_SOURCE
#include <ctr/sys/log_bound.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct ctr_log_file logs[2];
static struct ctr_log_limit limit;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A mark for each file that grew since the last look; its bound kept. */
static void scan(void) {
    for (int i = 0; i < 2; ++i) ctr_log_grew(&logs[i], &limit, now_ns());
}

/* The exit is recorded here, before the shim is exec'd to delete the
 * container: the daemon (watching for exit.json) sees it without waiting for
 * the delete. Atomic: a temporary file, renamed. Not flushed to disk: after a
 * power loss the container is not running either, and the daemon records an
 * unknown exit (as Durability::process_crash in sys/files.hpp). */
static void record_exit(const char* dir, int code, int sig, int oom_killed) {
    char *tmp = NULL, *path = NULL, body[160];
    if (asprintf(&tmp, "%s/exit.json.tmp", dir) < 0 || asprintf(&path, "%s/exit.json", dir) < 0) return;
    int n = snprintf(body, sizeof body, "{\"exit_code\":%d,\"signal\":%d,\"finished_at\":%lld%s}", code, sig, now_ns() / 1000000000LL,
                     oom_killed ? ",\"oom_killed\":true" : "");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    if (write(fd, body, (size_t)n) == n) rename(tmp, path);
    close(fd);
}

/* The file in which the kernel counts OOM kills in PID's memory cgroup:
 * memory.events on cgroup v2, memory.oom_control on v1 (both "oom_kill N").
 * Found while the process lives: after its exit /proc no longer says, and
 * the cgroup itself lasts until the shim deletes the container. The layout
 * rules are ctr::sys::Cgroups' (lib/sys/cgroup.hpp), in C. */
static char* oom_counter(pid_t pid) {
    char path[64], line[4096], *found = NULL;
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
    FILE* f = fopen(path, "re");
    if (!f) return NULL;
    struct stat st;
    const int v2 = stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0;
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char* a = strchr(line, ':');
        char* b = a ? strchr(a + 1, ':') : NULL;
        if (!b) continue;
        *b = 0;
        const char* controllers = a + 1;
        char list[256];
        snprintf(list, sizeof list, ",%s,", controllers);
        if (v2 && !*controllers) {
            if (asprintf(&found, "/sys/fs/cgroup%s/memory.events", b + 1) < 0) found = NULL;
        } else if (strstr(list, ",memory,")) {
            if (asprintf(&found, "/sys/fs/cgroup/%s%s/memory.oom_control", controllers, b + 1) < 0) found = NULL;
        }
    }
    fclose(f);
    return found;
}

static long long oom_kills(const char* file) {
    if (!file) return 0;
    FILE* f = fopen(file, "re");
    if (!f) return 0;
    char key[64];
    long long v = 0, n = 0;
    while (fscanf(f, "%63s %lld", key, &v) == 2)
        if (strcmp(key, "oom_kill") == 0) n = v;
    fclose(f);
    return n;
}

/* Reads the inotify events waiting on `in`: whether one was for `watch`. */
static int drain(int in, int watch) {
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int hit = 0;
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        for (char* e = buf; e < buf + n; e += sizeof(struct inotify_event) + ((struct inotify_event*)e)->len)
            if (watch >= 0 && ((struct inotify_event*)e)->wd == watch) hit = 1;
    return hit;
}

int main(int argc, char** argv) {
    if (argc < 9 || strcmp(argv[7], "--") != 0) {
        fprintf(stderr, "usage: container-shim-reaper PID STATE_DIR OUT_SIZE ERR_SIZE MAX_SIZE MAX_FILE -- SHIM_ARGV...\n");
        return 125;
    }
    pid_t pid = (pid_t)atoi(argv[1]);
    const char* dir = argv[2];
    const char* names[2] = {"stdout.log", "stderr.log"};
    int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    limit.max_size = atoll(argv[5]);
    limit.max_file = atoll(argv[6]);
    for (int i = 0; i < 2; ++i) {
        char* path = NULL;
        if (asprintf(&path, "%s/%s", dir, names[i]) < 0) continue;
        ctr_log_open(&logs[i], path, atoll(argv[3 + i]));
        if (in >= 0) inotify_add_watch(in, path, IN_MODIFY);
        free(path);
    }
    scan();  /* what came while the shim handed over */

    char* oom_file = oom_counter(pid);
    const long long oom_before = oom_kills(oom_file);
    /* cgroup v2 says when memory.events changes: read it then, while the
     * cgroup is surely there. Under systemd the container's scope (and the
     * cgroup with it) goes as soon as its last process has, which can be
     * before this reaper reads it after the exit. */
    int oom_seen = 0;
    const int oom_watch = (in >= 0 && oom_file && strstr(oom_file, "memory.events")) ? inotify_add_watch(in, oom_file, IN_MODIFY) : -1;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    while (pidfd >= 0) {
        struct pollfd p[2] = {{pidfd, POLLIN, 0}, {in, POLLIN, 0}};
        if (poll(p, in >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[1].revents) {
            if (drain(in, oom_watch) && oom_kills(oom_file) > oom_before) oom_seen = 1;
            scan();
        }
        if (p[0].revents) break;
    }
    int status = 0, code = 255, sig = 0;
    pid_t r;
    do r = waitpid(pid, &status, 0); while (r < 0 && errno == EINTR);
    if (r == pid) {
        if (WIFEXITED(status)) code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) {
            sig = WTERMSIG(status);
            code = 128 + sig;
        }
    }
    if (in >= 0 && drain(in, oom_watch) && oom_kills(oom_file) > oom_before) oom_seen = 1;  /* came with the exit */
    while (waitpid(-1, NULL, WNOHANG) > 0) {} /* orphans handed to us, as subreaper */
    scan();
    record_exit(dir, code, sig, oom_seen || oom_kills(oom_file) > oom_before);

    char code_s[16], sig_s[16];
    snprintf(code_s, sizeof code_s, "%d", code);
    snprintf(sig_s, sizeof sig_s, "%d", sig);
    for (int i = 0; i < 2; ++i) ctr_log_close(&logs[i]);
    int n = argc - 8;
    char** next = calloc((size_t)n + 5, sizeof *next);
    if (next) {
        for (int i = 0; i < n; ++i) next[i] = argv[8 + i];
        next[n] = "--exit-code";
        next[n + 1] = code_s;
        next[n + 2] = "--exit-signal";
        next[n + 3] = sig_s;
        execv(next[0], next);
    }
    /* The exit is recorded; only the OCI runtime's state is left behind. */
    fprintf(stderr, "container-shim-reaper: exec %s: %s\n", argv[8], strerror(errno));
    return 0;
}
