/* See ctr/sys/log_bound.h. C, not C++: container-shim-reaper is a static C
 * program kept small, and it links this file too. */
#define _GNU_SOURCE
#include <ctr/sys/log_bound.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char* index_path(const char* path) {
    char* p = NULL;
    return asprintf(&p, "%s.idx", path) < 0 ? NULL : p;
}

int ctr_log_open(struct ctr_log_file* f, const char* path, long long marked) {
    memset(f, 0, sizeof *f);
    f->index_fd = -1;
    f->size = marked;
    f->path = strdup(path);
    if (!f->path) return -1;
    /* What an earlier run (or watcher) freed stays freed. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        off_t data = lseek(fd, 0, SEEK_DATA);
        struct stat st;
        if (data > 0) f->freed = data;
        else if (data < 0 && errno == ENXIO && fstat(fd, &st) == 0) f->freed = st.st_size & ~4095LL;
        close(fd);
    }
    char* index = index_path(path);
    if (!index) return -1;
    f->index_fd = open(index, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    free(index);
    return f->index_fd < 0 ? -1 : 0;
}

void ctr_log_close(struct ctr_log_file* f) {
    if (f->index_fd >= 0) close(f->index_fd);
    free(f->path);
    f->path = NULL;
    f->index_fd = -1;
}

/* FILE.idx without the marks of freed bytes, but for the last of them (it
 * tells when the first kept bytes were written). Written aside and renamed:
 * a reader has the old index or the new one (sys::LogIndex sees the new
 * inode and reads it from its start). */
static void compact_index(struct ctr_log_file* f) {
    char* index = index_path(f->path);
    char* tmp = NULL;
    if (!index || asprintf(&tmp, "%s.tmp", index) < 0) {
        free(index);
        return;
    }
    FILE* in = fopen(index, "re");
    FILE* out = fopen(tmp, "we");
    if (in && out) {
        char line[128], last[128] = "";
        long long offset, ns;
        while (fgets(line, sizeof line, in) && strchr(line, '\n') && sscanf(line, "%lld %lld", &offset, &ns) == 2) {
            if (offset < f->freed) {
                memcpy(last, line, sizeof line);
                continue;
            }
            if (last[0]) fputs(last, out);
            last[0] = 0;
            fputs(line, out);
        }
        if (last[0]) fputs(last, out);
        int failed = ferror(in) || ferror(out);
        failed |= fclose(out) != 0;
        out = NULL;
        if (!failed && rename(tmp, index) == 0) {
            int fd = open(index, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
            if (fd >= 0) {
                if (f->index_fd >= 0) close(f->index_fd);
                f->index_fd = fd;
            }
        } else {
            unlink(tmp);
        }
    }
    if (in) fclose(in);
    if (out) fclose(out);
    free(tmp);
    free(index);
}

/* Docker keeps the current file and max_file - 1 full ones; so do we, in
 * one file: past max_size * max_file bytes, everything before the last
 * (max_file - 1) * max_size is freed, in whole blocks. */
static void bound(struct ctr_log_file* f, const struct ctr_log_limit* limit, long long block) {
    const long long files = limit->max_file > 0 ? limit->max_file : 1;
    if (f->punch_failed || f->size - f->freed <= limit->max_size * files) return;
    if (block <= 0) block = 4096;
    const long long to = (f->size - limit->max_size * (files - 1)) / block * block;
    if (to <= f->freed) return;
    int fd = open(f->path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    int rc = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, f->freed, to - f->freed);
    int err = errno;
    close(fd);
    if (rc != 0) {
        f->punch_failed = 1;
        fprintf(stderr, "container: %s: cannot free the log's oldest bytes (%s): it grows past max-size\n", f->path, strerror(err));
        return;
    }
    f->freed = to;
    compact_index(f);
}

void ctr_log_grew(struct ctr_log_file* f, const struct ctr_log_limit* limit, long long now_ns) {
    struct stat st;
    if (!f->path || stat(f->path, &st) != 0 || st.st_size <= f->size) return;
    if (f->index_fd >= 0) {
        char line[64];
        int n = snprintf(line, sizeof line, "%lld %lld\n", f->size, now_ns);
        if (n > 0 && write(f->index_fd, line, (size_t)n) < 0) { /* a missing mark only loses a timestamp */ }
    }
    f->size = st.st_size;
    if (limit && limit->max_size > 0) bound(f, limit, st.st_blksize);
}

long long ctr_log_start(int fd) {
    off_t data = lseek(fd, 0, SEEK_DATA);
    if (data == 0) return 0;
    struct stat st;
    if (data < 0) return errno == ENXIO && fstat(fd, &st) == 0 ? st.st_size : 0; /* all freed; or no holes here */
    /* The hole ends inside a line: the first whole line kept. */
    char buf[4096];
    for (off_t at = data;;) {
        ssize_t n = pread(fd, buf, sizeof buf, at);
        if (n <= 0) return at;
        const char* nl = memchr(buf, '\n', (size_t)n);
        if (nl) return at + (nl - buf) + 1;
        at += n;
    }
}
