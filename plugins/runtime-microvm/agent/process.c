/* The processes: the container's (PID 1 of its own namespaces) and exec'd
 * ones, their stdio relayed as frames, their exits reported. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct proc procs[MAX_PROCS];
/* The container's process: PID 1 of a PID and mount namespace of its own,
 * as in a Linux container; exec'd processes join both. */
static pid_t container_init = 0;
int own_pid_ns = -1;

struct proc *find_stream(uint32_t stream) {
    for (int i = 0; i < MAX_PROCS; ++i)
        if (procs[i].used && procs[i].stream == stream) return &procs[i];
    return NULL;
}

void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* Splits a RUN payload into its strings; returns how many. */
/* Like fork, but the child is PID 1 of a new PID namespace, in a new mount
 * namespace with its own /proc. Raw clone: we are single-threaded, and the
 * child only execs. */
static pid_t start_container_init(void) {
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid != 0) {
        if (pid > 0) container_init = pid;
        return pid;
    }
    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    umount2("/proc", MNT_DETACH);
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    return 0;
}

/* Like fork, but the child is in the container's PID and mount namespaces. */
static pid_t fork_into_container(void) {
    int pid_ns = -1, mnt_ns = -1;
    if (container_init > 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/pid", container_init);
        pid_ns = open(path, O_RDONLY | O_CLOEXEC);
        snprintf(path, sizeof path, "/proc/%d/ns/mnt", container_init);
        mnt_ns = open(path, O_RDONLY | O_CLOEXEC);
    }
    /* Our children's PID namespace, for this one fork only. */
    if (pid_ns >= 0 && setns(pid_ns, CLONE_NEWPID) != 0) say("enter the container's pid namespace: %s", strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        if (mnt_ns >= 0 && setns(mnt_ns, CLONE_NEWNS) != 0) _exit(126);
        return 0;
    }
    if (pid_ns >= 0) {
        setns(own_pid_ns, CLONE_NEWPID);
        close(pid_ns);
    }
    if (mnt_ns >= 0) close(mnt_ns);
    return pid;
}

/* ---- the process's privileges, from its spec (before exec, in the child) */

/* "RES=soft:hard;..." */
static int apply_rlimits(const char *list) {
    while (*list) {
        int res;
        unsigned long long soft, hard;
        int used = 0;
        if (sscanf(list, "%d=%llu:%llu%n", &res, &soft, &hard, &used) != 3) return EINVAL;
        struct rlimit rl = {(rlim_t)soft, (rlim_t)hard};
        if (setrlimit(res, &rl) != 0) return errno;
        list += used;
        if (*list == ';') ++list;
    }
    return 0;
}

/* "bounding,effective,permitted,inheritable,ambient" hex masks. */
static int parse_caps(const char *caps, unsigned long long m[5]) {
    return sscanf(caps, "%llx,%llx,%llx,%llx,%llx", &m[0], &m[1], &m[2], &m[3], &m[4]) == 5 ? 0 : EINVAL;
}

static int last_cap(void) {
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    char buf[16] = {0};
    if (fd >= 0) {
        (void)!read(fd, buf, sizeof buf - 1);
        close(fd);
    }
    int last = atoi(buf);
    return last > 0 ? last : 40;
}

/* Drops what the bounding set must not hold, and keeps the permitted set
 * across the setuid that follows. */
static int limit_bounding_set(const char *caps) {
    unsigned long long m[5];
    if (parse_caps(caps, m) != 0) return EINVAL;
    for (int c = 0; c <= last_cap() && c < 64; ++c)
        if (!(m[0] & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) return errno;
    return prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 ? errno : 0;
}

static int set_capabilities(const char *caps) {
    unsigned long long m[5];
    if (parse_caps(caps, m) != 0) return EINVAL;
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    for (int i = 0; i < 2; ++i) {
        data[i].effective = (uint32_t)(m[1] >> (32 * i));
        data[i].permitted = (uint32_t)(m[2] >> (32 * i));
        data[i].inheritable = (uint32_t)(m[3] >> (32 * i));
    }
    if (syscall(SYS_capset, &header, data) != 0) return errno;
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    /* The kernel raises an ambient capability only when it is permitted and
     * inheritable; runc's default spec lists ambient ones without an
     * inheritable set. Those are skipped, as runc ends up doing, rather
     * than failing the exec. */
    for (int c = 0; c < 64; ++c) {
        const unsigned long long bit = 1ULL << c;
        if ((m[4] & bit) && (m[3] & bit) && (m[2] & bit) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0) return errno;
    }
    return 0;
}

void run_process(uint32_t stream, char *payload, uint32_t len) {
    char *parts[4096];
    int n = split(payload, len, parts, 4095);
    enum { ARGC = 8 }; /* the index of argc: protocol.h, RUN */
    if (n < ARGC + 1) {
        send_frame(CTR_F_FAILED, stream, "\x16\0\0\0bad run request", 20);
        return;
    }
    uid_t uid = (uid_t)strtoul(parts[0], NULL, 10);
    gid_t gid = (gid_t)strtoul(parts[1], NULL, 10);
    const char *cwd = parts[2], *hostname = parts[3];
    int want_stdin = strcmp(parts[4], "1") == 0;
    int want_tty = parts[4][0] == 't';
    struct winsize size = {0, 0, 0, 0};
    if (want_tty) sscanf(parts[4] + 1, "%hux%hu", &size.ws_row, &size.ws_col);
    const char *caps = parts[5], *rlimits = parts[7];
    int no_new_privs = strcmp(parts[6], "1") == 0;
    int argc = atoi(parts[ARGC]);
    if (argc <= 0 || ARGC + 1 + argc > n) {
        send_frame(CTR_F_FAILED, stream, "\x16\0\0\0bad run request", 20);
        return;
    }
    /* argv needs its own NULL; envp ends where parts does (n < 4096). */
    char *argv[argc + 1];
    memcpy(argv, &parts[ARGC + 1], (size_t)argc * sizeof *argv);
    argv[argc] = NULL;
    char **envp = &parts[ARGC + 1 + argc];
    int envc = n - ARGC - 1 - argc;
    parts[n] = NULL;

    struct proc *slot = NULL;
    for (int i = 0; i < MAX_PROCS && !slot; ++i)
        if (!procs[i].used) slot = &procs[i];
    if (!slot || find_stream(stream)) {
        int32_t e = slot ? EEXIST : EAGAIN;
        send_ints(CTR_F_FAILED, stream, e, 0, 1);
        return;
    }
    int out[2], err[2], in[2] = {-1, -1}, status[2], master = -1;
    char slave_name[64] = {0};
    if (want_tty) {
        /* A terminal: the process gets the slave as stdio, we keep the master. */
        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, slave_name, sizeof slave_name) != 0) {
            send_ints(CTR_F_FAILED, stream, errno, 0, 1);
            if (master >= 0) close(master);
            return;
        }
    }
    if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(status, O_CLOEXEC) || (want_stdin && pipe2(in, O_CLOEXEC))) {
        send_ints(CTR_F_FAILED, stream, errno, 0, 1);
        if (master >= 0) close(master);
        return;
    }
    if (hostname[0]) sethostname(hostname, strlen(hostname));
    const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (int i = 0; i < envc; ++i)
        if (strncmp(envp[i], "PATH=", 5) == 0) path = envp[i] + 5;

    pid_t pid = stream == 0 ? start_container_init() : fork_into_container();
    if (pid == 0) {
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        setsid();
        int e = 0;
        if (want_tty) {
            int slave = open(slave_name, O_RDWR);
            if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) != 0) e = errno;
            if (!e && size.ws_row && size.ws_col) ioctl(slave, TIOCSWINSZ, &size);
            dup2(slave, 0);
            dup2(slave, 1);
            dup2(slave, 2);
        } else {
            int devnull = open("/dev/null", O_RDONLY);
            dup2(want_stdin ? in[0] : devnull, 0);
            dup2(out[1], 1);
            dup2(err[1], 2);
        }
        if (!e) e = apply_rlimits(rlimits);
        if (!e && caps[0]) e = limit_bounding_set(caps);
        if (setgroups(0, NULL) != 0 && errno != EPERM) e = errno;
        if (!e && setgid(gid) != 0) e = errno;
        if (!e && setuid(uid) != 0) e = errno;
        if (!e && caps[0]) e = set_capabilities(caps);
        if (!e && no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) e = errno;
        if (!e && chdir(cwd) != 0) e = errno;
        if (!e) {
            if (strchr(argv[0], '/')) {
                execve(argv[0], argv, envp);
                e = errno;
            } else {
                /* PATH search as execvpe does, but with the container's PATH. */
                char buf[4096];
                const char *p = path;
                e = ENOENT;
                while (*p) {
                    const char *colon = strchr(p, ':');
                    size_t dl = colon ? (size_t)(colon - p) : strlen(p);
                    snprintf(buf, sizeof buf, "%.*s/%s", (int)dl, p, argv[0]);
                    execve(buf, argv, envp);
                    if (errno != ENOENT && errno != ENOTDIR) e = errno;
                    p += dl + (colon ? 1 : 0);
                }
            }
        }
        int32_t code = e;
        (void)!write(status[1], &code, sizeof code);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    close(status[1]);
    if (in[0] >= 0) close(in[0]);
    int32_t child_errno = 0;
    ssize_t got = pid > 0 ? read(status[0], &child_errno, sizeof child_errno) : -1;
    close(status[0]);
    if (pid < 0 || got == (ssize_t)sizeof child_errno) {
        int32_t e = pid < 0 ? errno : child_errno;
        if (pid > 0) waitpid(pid, NULL, 0);
        close(out[0]);
        close(err[0]);
        if (in[1] >= 0) close(in[1]);
        char msg[300];
        int32_t *head = (int32_t *)msg;
        *head = e;
        int m = snprintf(msg + 4, sizeof msg - 4, "exec %s: %s", argv[0], strerror(e));
        send_frame(CTR_F_FAILED, stream, msg, (uint32_t)(4 + m));
        return;
    }
    if (want_tty) {
        /* Its output and input both go through the master. */
        close(out[0]);
        close(err[0]);
        out[0] = master;
        err[0] = -1;
        in[1] = dup(master);
    }
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    if (err[0] >= 0) fcntl(err[0], F_SETFL, O_NONBLOCK);
    *slot = (struct proc){1, stream, pid, out[0], err[0], in[1]};
    send_ints(CTR_F_STARTED, stream, pid, 0, 1);
}

/* Relays what a pipe holds now; returns 0 at EOF. */
int relay(struct proc *p, int *fd, uint32_t type) {
    char buf[65536];
    for (;;) {
        ssize_t n = read(*fd, buf, sizeof buf);
        if (n > 0) {
            send_frame(type, p->stream, buf, (uint32_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 1;
        close_fd(fd);
        return 0;
    }
}

/* Reaps every child that ended; a tracked one gets its output drained (what
 * is in the pipe now: a daemon it left behind may hold them open forever)
 * and its exit reported. */
void reap(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < MAX_PROCS; ++i) {
            struct proc *p = &procs[i];
            if (!p->used || p->pid != pid) continue;
            if (p->out >= 0) relay(p, &p->out, CTR_F_STDOUT);
            if (p->err >= 0) relay(p, &p->err, CTR_F_STDERR);
            close_fd(&p->out);
            close_fd(&p->err);
            close_fd(&p->in);
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
            send_ints(CTR_F_EXIT, p->stream, code, sig, 2);
            if (p->pid == container_init) container_init = 0;
            p->used = 0;
        }
    }
}
