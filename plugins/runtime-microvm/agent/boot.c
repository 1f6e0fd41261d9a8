/* Boot: modules, the agent's port, the shared root and the container's mounts. */
#define _GNU_SOURCE
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

void mount_or_die(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
    mkdir(dst, 0755);
    if (mount(src, dst, type, flags, data) != 0 && errno != EBUSY) {
        say("mount %s on %s", type, dst);
        die("mount");
    }
}

/* /lib/modules/order lists the modules to load, dependencies first. */
void load_modules(void) {
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
int open_port(void) {
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
void enter_rootfs(unsigned long long shm_bytes) {
    char shm_options[64] = "mode=1777";
    if (shm_bytes > 0) snprintf(shm_options, sizeof shm_options, "mode=1777,size=%llu", shm_bytes);
    mount_or_die(CTR_AGENT_ROOTFS_TAG, "/newroot", "virtiofs", 0, NULL);
    mount_or_die("proc", "/newroot/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("sysfs", "/newroot/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_die("devtmpfs", "/newroot/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    mount_or_die("devpts", "/newroot/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
    mount_or_die("shm", "/newroot/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shm_options);
    mount_or_die("tmpfs", "/newroot/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
    if (chdir("/newroot") != 0) die("chdir /newroot");
    if (mount(".", "/", NULL, MS_MOVE, NULL) != 0) die("move rootfs");
    if (chroot(".") != 0) die("chroot");
    if (chdir("/") != 0) die("chdir /");
}


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

/* Binds the file `held` onto `dest` (made if missing, with its parents),
 * then applies MS_RDONLY, MS_NOSUID, MS_NODEV and MS_NOEXEC of `flags`. */
static void bind_file(const char *held, const char *dest, unsigned long flags) {
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dest);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = 0;
        mkdir_p(parent);
    }
    int fd = open(dest, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
    if (mount(held, dest, NULL, MS_BIND, NULL) != 0) {
        say("bind %s on %s: %s", held, dest, strerror(errno));
        return;
    }
    /* A bind takes its flags only from a remount. */
    if (flags && mount(NULL, dest, NULL, MS_BIND | MS_REMOUNT | flags, NULL) != 0)
        say("remount %s: %s", dest, strerror(errno));
}

/* The container's volumes (virtiofs shares) and tmpfs mounts, in the root
 * before its process starts; a mount that fails is said on the console
 * and kept from the process's view by nothing: the host checked them. */
void mount_all(char *payload, uint32_t len) {
    char *parts[1024];
    int n = split(payload, len, parts, 1024);
    for (int i = 0; i + 4 < n; i += 5) {
        const char *type = parts[i], *source = parts[i + 1], *dest = parts[i + 2], *flags = parts[i + 3], *data = parts[i + 4];
        unsigned long f = 0;
        if (strstr(flags, "ro")) f |= MS_RDONLY;
        if (strstr(flags, "nosuid")) f |= MS_NOSUID;
        if (strstr(flags, "nodev")) f |= MS_NODEV;
        if (strstr(flags, "noexec")) f |= MS_NOEXEC;
        char held[256];
        if (strcmp(type, "file") == 0) {
            /* A file the host sent (store_file): bound read-only onto its place. */
            snprintf(held, sizeof held, "%s/%s", FILES_DIR, source);
            bind_file(held, dest, f | MS_RDONLY);
            continue;
        }
        if (strcmp(type, "virtiofs-file") == 0) {
            /* A file shared alone: its share mounted aside, its one file bound. */
            char aside[128];
            snprintf(aside, sizeof aside, "%s/%s", FILES_DIR, source);
            mkdir_p(aside);
            if (mount(source, aside, "virtiofs", 0, NULL) != 0) {
                say("mount virtiofs %s on %s: %s", source, aside, strerror(errno));
                continue;
            }
            snprintf(held, sizeof held, "%s/%s", aside, CTR_LONE_FILE);
            bind_file(held, dest, f);
            continue;
        }
        mkdir_p(dest);
        if (mount(source, dest, type, f, data[0] ? data : NULL) != 0) say("mount %s on %s: %s", type, dest, strerror(errno));
    }
}

/* Keeps a file's bytes from a FILE frame ("id\0bytes") for a "file" mount,
 * in the guest's /run, a tmpfs. */
void store_file(char *payload, uint32_t len) {
    size_t idlen = strnlen(payload, len);
    if (idlen == len || idlen > 16) return;
    mkdir_p(FILES_DIR);
    char path[64];
    snprintf(path, sizeof path, "%s/%s", FILES_DIR, payload);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (fd < 0 || write_all(fd, payload + idlen + 1, len - idlen - 1) != 0) say("keep %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
}
