/* The agent's main loop: boot, then frames from the host and output of the
 * processes, until the host asks for power off (see agent.h). */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

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
    case CTR_F_FILE:
        store_file(payload, f->len);
        break;
    case CTR_F_MOUNT:
        mount_all(payload, f->len);
        break;
    case CTR_F_NETWORK:
        configure_network(payload, f->len);
        break;
    case CTR_F_PROCESSES:
        send_process_list(f->stream);
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
    const char *shm = strstr(cmdline, "ctr.shm=");
    enter_rootfs(shm ? strtoull(shm + 8, NULL, 10) : 0);
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
