/* PID 1 of the test guest (tests/guest/run-guest.sh): a host whose kernel
 * mounts cgroup2 alone. It loads the modules /modules/order lists (in that
 * order: the list puts dependencies first), puts a writable tmpfs over the
 * host's root (shared read-only through virtiofs, tag "host"), moves into
 * that overlay (the host's root also at /host), and runs the script the kernel command line names
 * (ctr_script=PATH, which the kernel hands init as an environment variable).
 * When the script ends, so does PID 1: the kernel panics and, with
 * panic=-1 and QEMU's -no-reboot, the VM is gone. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void fail(const char *what) {
    fprintf(stderr, "guest-init: %s: %s\n", what, strerror(errno));
    _exit(1);
}

static void mount_at(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
    mkdir(dst, 0755);
    if (mount(src, dst, type, flags, data) != 0) fail(dst);
}

static void load_modules(void) {
    FILE *order = fopen("/modules/order", "r");
    if (!order) return;
    char name[256];
    while (fgets(name, sizeof name, order)) {
        name[strcspn(name, "\n")] = 0;
        if (!name[0]) continue;
        char path[512];
        snprintf(path, sizeof path, "/modules/%s", name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        /* A module the kernel has built in, or that this machine's devices
         * do not want, may refuse: the script finds out what is missing. */
        if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
            fprintf(stderr, "guest-init: insmod %s: %s\n", name, strerror(errno));
        close(fd);
    }
    fclose(order);
}

int main(void) {
    const char *script = getenv("ctr_script");
    if (!script) {
        errno = EINVAL;
        fail("no ctr_script= on the kernel command line");
    }
    mount_at("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    mount_at("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_at("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    load_modules();
    mount_at("host", "/lower", "virtiofs", MS_RDONLY, NULL);
    mount_at("tmpfs", "/upper", "tmpfs", 0, "mode=0755");
    mkdir("/upper/data", 0755);
    mkdir("/upper/work", 0755);
    mount_at("overlay", "/newroot", "overlay", 0, "lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work");
    /* The host's root as it is, at /host: the script puts back what its own
     * tmpfs mounts (/tmp, /run) would hide, such as a build tree in /tmp. */
    mount_at("/lower", "/newroot/host", NULL, MS_BIND, NULL);
    /* The script mounts its own /proc, /sys and /dev: these go with the initramfs. */
    umount2("/proc", MNT_DETACH);
    umount2("/sys", MNT_DETACH);
    umount2("/dev", MNT_DETACH);
    if (chdir("/newroot") != 0) fail("chdir /newroot");
    /* An initramfs cannot be pivot_root'ed away: move the new root over it, as switch_root does. */
    if (mount(".", "/", NULL, MS_MOVE, NULL) != 0) fail("move root");
    if (chroot(".") != 0 || chdir("/") != 0) fail("chroot");
    execl("/bin/bash", "bash", script, (char *)NULL);
    fail("exec /bin/bash");
    return 1;
}
