/*
 * container-vm-agent: the /init of every runtime-microvm guest.
 *
 * It loads the virtio modules the initramfs carries (the kernel has them as
 * modules, and the initramfs has no modprobe), mounts the container's rootfs
 * that the host shares over virtiofs, moves into it, and then serves the
 * agent channel (protocol.h): it runs processes, relays their stdio, passes
 * signals on, reports exits, and powers the VM off when told. As PID 1 it
 * reaps every orphan too.
 *
 * Statically linked, single-threaded, no allocation that outlives a frame
 * except the process table. Before the channel is up it can only speak to
 * the serial console, which the host keeps as the VM's console log.
 */
#define _GNU_SOURCE
#include "protocol.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <net/route.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PROCS 64

struct proc {
    int used;
    uint32_t stream;
    pid_t pid;
    int out, err, in; /* our ends of its pipes, -1 when closed */
};

static struct proc procs[MAX_PROCS];
static int chan = -1;
/* The container's process: PID 1 of a PID and mount namespace of its own,
 * as in a Linux container; exec'd processes join both. */
static pid_t container_init = 0;
static int own_pid_ns = -1;

static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "container-vm-agent: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static void power_off(void) {
    sync();
    reboot(RB_POWER_OFF);
    for (;;) pause();
}

static void die(const char *what) {
    say("%s: %s", what, strerror(errno));
    power_off();
}

static int write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            poll(&pfd, 1, -1);
            continue;
        }
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t len) {
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pfd = {fd, POLLIN, 0};
            poll(&pfd, 1, -1);
            continue;
        }
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void send_frame(uint32_t type, uint32_t stream, const void *payload, uint32_t len) {
    struct ctr_frame f = {len, type, stream};
    /* The host is gone if this fails; nothing is left to report to. */
    if (write_all(chan, &f, sizeof f) != 0 || (len && write_all(chan, payload, len) != 0)) power_off();
}

static void send_ints(uint32_t type, uint32_t stream, int32_t a, int32_t b, int count) {
    int32_t v[2] = {a, b};
    send_frame(type, stream, v, (uint32_t)(count * sizeof(int32_t)));
}

/* ---- boot ---------------------------------------------------------------- */

static void mount_or_die(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
    mkdir(dst, 0755);
    if (mount(src, dst, type, flags, data) != 0 && errno != EBUSY) {
        say("mount %s on %s", type, dst);
        die("mount");
    }
}

/* /lib/modules/order lists the modules to load, dependencies first. */
static void load_modules(void) {
    FILE *order = fopen("/lib/modules/order", "r");
    if (!order) return;
    char name[256];
    while (fgets(name, sizeof name, order)) {
        name[strcspn(name, "\n")] = 0;
        if (!name[0]) continue;
        char path[512];
        snprintf(path, sizeof path, "/lib/modules/%s", name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            say("module %s: %s", name, strerror(errno));
            continue;
        }
        if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST) say("insmod %s: %s", name, strerror(errno));
        close(fd);
    }
    fclose(order);
}

/* The port's /dev node appears once virtio_console has probed it. */
static int open_port(void) {
    for (int tries = 0; tries < 500; ++tries) {
        DIR *d = opendir("/sys/class/virtio-ports");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char path[300], name[64] = {0};
            snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            ssize_t n = read(fd, name, sizeof name - 1);
            close(fd);
            if (n <= 0) continue;
            name[strcspn(name, "\n")] = 0;
            if (strcmp(name, CTR_AGENT_PORT_NAME) != 0) continue;
            snprintf(path, sizeof path, "/dev/%s", e->d_name);
            int port = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
            if (port >= 0) {
                closedir(d);
                return port;
            }
        }
        if (d) closedir(d);
        usleep(10000);
    }
    errno = ENODEV;
    return -1;
}

/* Mounts the shared rootfs and makes it our root, as switch_root does (an
 * initramfs cannot be pivot_root'ed away). */
static void enter_rootfs(void) {
    mount_or_die(CTR_AGENT_ROOTFS_TAG, "/newroot", "virtiofs", 0, NULL);
    mount_or_die("proc", "/newroot/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("sysfs", "/newroot/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("devtmpfs", "/newroot/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    mount_or_die("devpts", "/newroot/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
    mount_or_die("shm", "/newroot/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    mount_or_die("tmpfs", "/newroot/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
    if (chdir("/newroot") != 0) die("chdir /newroot");
    if (mount(".", "/", NULL, MS_MOVE, NULL) != 0) die("move rootfs");
    if (chroot(".") != 0) die("chroot");
    if (chdir("/") != 0) die("chdir /");
}

static int split(char *payload, uint32_t len, char **out, int max);

/* ---- mounts ------------------------------------------------------------------ */

static void mkdir_p(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; ++p)
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0755);
            *p = '/';
        }
    mkdir(buf, 0755);
}

/* The container's volumes (virtiofs shares) and tmpfs mounts, in the root
 * before its process starts; a mount that fails is said on the console
 * and kept from the process's view by nothing: the host checked them. */
static void mount_all(char *payload, uint32_t len) {
    char *parts[1024];
    int n = split(payload, len, parts, 1024);
    for (int i = 0; i + 4 < n; i += 5) {
        const char *type = parts[i], *source = parts[i + 1], *dest = parts[i + 2], *flags = parts[i + 3], *data = parts[i + 4];
        unsigned long f = 0;
        if (strstr(flags, "ro")) f |= MS_RDONLY;
        if (strstr(flags, "nosuid")) f |= MS_NOSUID;
        if (strstr(flags, "nodev")) f |= MS_NODEV;
        if (strstr(flags, "noexec")) f |= MS_NOEXEC;
        mkdir_p(dest);
        if (mount(source, dest, type, f, data[0] ? data : NULL) != 0) say("mount %s on %s: %s", type, dest, strerror(errno));
    }
}

/* ---- network ---------------------------------------------------------------- */

/* Gives a NIC its address and brings it up; with a gateway, the default
 * route goes through it. IPv4 only, as the host's networks are. */
static void configure_nic(const char *ifname, const char *addr, int prefix, const char *gw) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    if (addr[0]) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
        sin->sin_family = AF_INET;
        if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1 && ioctl(s, SIOCSIFADDR, &ifr) != 0) say("address of %s: %s", ifname, strerror(errno));
        sin->sin_addr.s_addr = prefix <= 0 ? 0 : htonl(0xffffffffu << (32 - prefix));
        if (ioctl(s, SIOCSIFNETMASK, &ifr) != 0) say("netmask of %s: %s", ifname, strerror(errno));
    }
    if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) say("up %s: %s", ifname, strerror(errno));
    }
    if (gw[0]) {
        struct rtentry rt;
        memset(&rt, 0, sizeof rt);
        struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst, *mask = (struct sockaddr_in *)&rt.rt_genmask,
                           *via = (struct sockaddr_in *)&rt.rt_gateway;
        dst->sin_family = mask->sin_family = via->sin_family = AF_INET;
        inet_pton(AF_INET, gw, &via->sin_addr);
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        rt.rt_dev = (char *)ifname;
        if (ioctl(s, SIOCADDRT, &rt) != 0 && errno != EEXIST) say("route via %s: %s", gw, strerror(errno));
    }
    close(s);
}

static void configure_network(char *payload, uint32_t len) {
    char *parts[256];
    int n = split(payload, len, parts, 256);
    for (int i = 0; i + 3 < n; i += 4) configure_nic(parts[i], parts[i + 1], atoi(parts[i + 2]), parts[i + 3]);
}

/* ---- processes ------------------------------------------------------------ */

static struct proc *find_stream(uint32_t stream) {
    for (int i = 0; i < MAX_PROCS; ++i)
        if (procs[i].used && procs[i].stream == stream) return &procs[i];
    return NULL;
}

static void close_fd(int *fd) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* Splits a RUN payload into its strings; returns how many. */
static int split(char *payload, uint32_t len, char **out, int max) {
    int n = 0;
    uint32_t start = 0;
    for (uint32_t i = 0; i < len && n < max; ++i)
        if (payload[i] == 0) {
            out[n++] = payload + start;
            start = i + 1;
        }
    return n;
}

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

static void run_process(uint32_t stream, char *payload, uint32_t len) {
    char *parts[4096];
    int n = split(payload, len, parts, 4095);
    if (n < 6) {
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
    int argc = atoi(parts[5]);
    if (argc <= 0 || 6 + argc > n) {
        send_frame(CTR_F_FAILED, stream, "\x16\0\0\0bad run request", 20);
        return;
    }
    /* argv needs its own NULL; envp ends where parts does (n < 4096). */
    char *argv[argc + 1];
    memcpy(argv, &parts[6], (size_t)argc * sizeof *argv);
    argv[argc] = NULL;
    char **envp = &parts[6 + argc];
    int envc = n - 6 - argc;
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
        if (setgroups(0, NULL) != 0 && errno != EPERM) e = errno;
        if (!e && setgid(gid) != 0) e = errno;
        if (!e && setuid(uid) != 0) e = errno;
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
static int relay(struct proc *p, int *fd, uint32_t type) {
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
static void reap(void) {
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

static void handle_frame(const struct ctr_frame *f, char *payload) {
    struct proc *p = find_stream(f->stream);
    switch (f->type) {
    case CTR_F_RUN:
        run_process(f->stream, payload, f->len);
        break;
    case CTR_F_STDIN:
        if (p && p->in >= 0 && write_all(p->in, payload, f->len) != 0) close_fd(&p->in);
        break;
    case CTR_F_STDIN_EOF:
        if (p) close_fd(&p->in);
        break;
    case CTR_F_SIGNAL:
        if (p && f->len >= 4) {
            int32_t sig;
            memcpy(&sig, payload, sizeof sig);
            kill(p->pid, sig);
        }
        break;
    case CTR_F_RESIZE:
        if (p && p->in >= 0 && f->len >= 8) {
            int32_t rc[2];
            memcpy(rc, payload, sizeof rc);
            struct winsize ws = {(unsigned short)rc[0], (unsigned short)rc[1], 0, 0};
            ioctl(p->in, TIOCSWINSZ, &ws);
        }
        break;
    case CTR_F_MOUNT:
        mount_all(payload, f->len);
        break;
    case CTR_F_NETWORK:
        configure_network(payload, f->len);
        break;
    case CTR_F_POWEROFF:
        for (int i = 0; i < MAX_PROCS; ++i)
            if (procs[i].used) kill(procs[i].pid, SIGKILL);
        power_off();
        break;
    default:
        say("unknown frame type %u", f->type);
    }
}

int main(void) {
    if (getpid() != 1) {
        fprintf(stderr, "container-vm-agent: runs only as a VM's init\n");
        return 1;
    }
    mount_or_die("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    mount_or_die("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    load_modules();
    /* ctr.poweroff on the kernel command line: boot, load the modules, and
     * power off (the floor that bench/microvm.sh measures us against). */
    char cmdline[4096] = {0};
    int cfd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    if (cfd >= 0) {
        (void)!read(cfd, cmdline, sizeof cmdline - 1);
        close(cfd);
    }
    if (strstr(cmdline, "ctr.poweroff")) power_off();
    chan = open_port();
    if (chan < 0) die("agent port " CTR_AGENT_PORT_NAME);
    enter_rootfs();
    own_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    umask(022);
    configure_nic("lo", "", 0, "");

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) die("signalfd");

    send_frame(CTR_F_READY, 0, "1", 1);
    static char payload[CTR_AGENT_MAX_PAYLOAD];
    for (;;) {
        struct pollfd pfds[2 + 2 * MAX_PROCS];
        struct {
            struct proc *p;
            int which;
        } owner[2 + 2 * MAX_PROCS];
        int n = 0;
        pfds[n++] = (struct pollfd){chan, POLLIN, 0};
        pfds[n++] = (struct pollfd){sfd, POLLIN, 0};
        for (int i = 0; i < MAX_PROCS; ++i) {
            struct proc *p = &procs[i];
            if (!p->used) continue;
            if (p->out >= 0) {
                owner[n].p = p;
                owner[n].which = 1;
                pfds[n++] = (struct pollfd){p->out, POLLIN, 0};
            }
            if (p->err >= 0) {
                owner[n].p = p;
                owner[n].which = 2;
                pfds[n++] = (struct pollfd){p->err, POLLIN, 0};
            }
        }
        if (poll(pfds, (nfds_t)n, -1) < 0) {
            if (errno == EINTR) continue;
            die("poll");
        }
        /* Output before exits, so that a process's last bytes precede its exit. */
        for (int i = 2; i < n; ++i) {
            if (!pfds[i].revents) continue;
            struct proc *p = owner[i].p;
            if (owner[i].which == 1 && p->out >= 0) relay(p, &p->out, CTR_F_STDOUT);
            if (owner[i].which == 2 && p->err >= 0) relay(p, &p->err, CTR_F_STDERR);
        }
        if (pfds[1].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
            }
            reap();
        }
        if (pfds[0].revents & POLLIN) {
            struct ctr_frame f;
            if (read_all(chan, &f, sizeof f) != 0) power_off();
            if (f.len > CTR_AGENT_MAX_PAYLOAD - 1) {
                say("frame of %u bytes is too large", f.len);
                power_off();
            }
            if (f.len && read_all(chan, payload, f.len) != 0) power_off();
            payload[f.len] = 0;
            handle_frame(&f, payload);
        } else if (pfds[0].revents & (POLLHUP | POLLERR)) {
            /* The host let go of the VM (its shim died): nobody is left to
             * serve, and nothing must outlive the container. */
            say("the host closed the agent channel");
            power_off();
        }
    }
}
