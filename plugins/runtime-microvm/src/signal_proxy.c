/*
 * container-vm-signals: the host process that stands for a VM container's
 * process. The daemon signals containers by pid; a VM's process lives in
 * the guest, so runtime-microvm reports this process's pid instead. Every
 * signal it receives is written, one byte each, to fd 3, where the plugin
 * reads it and passes it to the guest. SIGKILL cannot be caught: the plugin
 * sees fd 3 close and kills the guest's process itself.
 *
 * It lives chrooted in the container's root (argv[1]), so that what the
 * host reads of "the container's process" (/proc/PID/root, as `cp` does)
 * is the container's root and never the host's.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2 || chroot(argv[1]) != 0 || chdir("/") != 0) {
        perror("container-vm-signals: chroot");
        return 1;
    }
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    /* Gone with the shim that started us. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) return 1;
    for (;;) {
        int sig = sigwaitinfo(&all, NULL);
        if (sig <= 0) continue;
        unsigned char b = (unsigned char)sig;
        if (write(3, &b, 1) != 1) return 0; /* the plugin let go of us */
    }
}
