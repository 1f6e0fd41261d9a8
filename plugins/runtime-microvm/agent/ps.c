/* The guest's processes for `container top`: what /proc says, in one
 * CTR_F_PROCESS_LIST frame (see protocol.h). The agent (pid 1) and kernel
 * threads (pid 2 and its children) are not the container's, and are left
 * out. A list too long for the buffer is cut at a whole entry. */
#define _GNU_SOURCE
#include "agent.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char list[256 * 1024];

/* The whole of a small /proc file, NUL-terminated; its length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t have = 0;
    while (have + 1 < size) {
        ssize_t n = read(fd, buf + have, size - 1 - have);
        if (n <= 0) break;
        have += (size_t)n;
    }
    close(fd);
    buf[have] = '\0';
    return (ssize_t)have;
}

/* One entry into list at *used; 0 if it did not fit. */
static int add_entry(size_t *used, long pid, long ppid, const char *cmd, size_t cmd_len) {
    char head[48];
    int n = snprintf(head, sizeof head, "%ld%c%ld%c", pid, '\0', ppid, '\0');
    if (n <= 0 || *used + (size_t)n + cmd_len + 1 > sizeof list) return 0;
    memcpy(list + *used, head, (size_t)n);
    memcpy(list + *used + n, cmd, cmd_len);
    list[*used + (size_t)n + cmd_len] = '\0';
    *used += (size_t)n + cmd_len + 1;
    return 1;
}

void send_process_list(uint32_t stream) {
    size_t used = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 2) continue;
        char path[64], stat[512], cmd[4096];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        if (read_small(path, stat, sizeof stat) <= 0) continue;
        char *open_paren = strchr(stat, '('), *close_paren = strrchr(stat, ')');
        if (!open_paren || !close_paren || close_paren < open_paren) continue;
        long ppid = -1;
        if (sscanf(close_paren + 2, "%*c %ld", &ppid) != 1 || ppid == 2) continue;
        snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
        ssize_t len = read_small(path, cmd, sizeof cmd);
        while (len > 0 && cmd[len - 1] == '\0') --len;
        for (ssize_t i = 0; i < len; ++i)
            if (cmd[i] == '\0') cmd[i] = ' ';
        if (len <= 0) { /* a zombie, or between exec and its first page: [comm], as ps */
            *close_paren = '\0';
            len = snprintf(cmd, sizeof cmd, "[%s]", open_paren + 1);
        }
        if (!add_entry(&used, pid, ppid, cmd, (size_t)len)) break;
    }
    if (d) closedir(d);
    send_frame(CTR_F_PROCESS_LIST, stream, list, (uint32_t)used);
}
