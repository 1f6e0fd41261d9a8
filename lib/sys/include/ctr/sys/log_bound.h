/* Marking and bounding a container's log file, in C: the shim (C++) and
 * container-shim-reaper (a small static C program that stands in for the
 * shim while the container runs) both watch the logs, and both do it here.
 *
 * Marks: FILE.idx gets a line "OFFSET UNIX_NS" each time FILE grows
 * (sys/log_index.hpp reads them).
 *
 * Bounds (--log-opt max-size=S,max-file=N): the container writes FILE
 * itself, through a descriptor we cannot swap, so FILE cannot be renamed
 * aside as Docker's json-file driver does. Once more than S*N bytes are
 * kept, the oldest S bytes (whole file system blocks) are freed as a hole
 * (fallocate PUNCH_HOLE): the disk holds at most about S*N bytes whatever
 * the writer does (O_APPEND or not), offsets never move, and readers start
 * at the first byte kept (ctr_log_start). FILE.idx loses the marks of what
 * was freed (rewritten and renamed: readers see an old or a new index). */
#ifndef CTR_SYS_LOG_BOUND_H
#define CTR_SYS_LOG_BOUND_H

#ifdef __cplusplus
extern "C" {
#endif

struct ctr_log_limit {
    long long max_size; /* bytes per "file"; 0: unbounded */
    long long max_file; /* how many "files" are kept */
};

struct ctr_log_file {
    char* path;
    int index_fd;    /* FILE.idx, O_APPEND; -1: no marks */
    long long size;  /* marked up to here */
    long long freed; /* bytes before this offset are a hole */
    int punch_failed; /* the file system cannot free (said once) */
};

/* Opens FILE.idx (creating it) for a log whose bytes up to `marked` are
 * marked. 0 or -1 (errno). */
int ctr_log_open(struct ctr_log_file* f, const char* path, long long marked);
void ctr_log_close(struct ctr_log_file* f);
/* A mark when the file grew since the last look, then frees its oldest bytes
 * when it holds more than `limit` allows. */
void ctr_log_grew(struct ctr_log_file* f, const struct ctr_log_limit* limit, long long now_ns);
/* Where a reader starts: 0, or after a hole, the first whole line kept. */
long long ctr_log_start(int fd);

#ifdef __cplusplus
}
#endif

#endif
