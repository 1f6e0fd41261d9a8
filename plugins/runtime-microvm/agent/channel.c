/* The agent channel and the console: frames out, power off. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

int chan = -1;

void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "container-vm-agent: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

void power_off(void) {
    sync();
    reboot(RB_POWER_OFF);
    for (;;) pause();
}

void die(const char *what) {
    say("%s: %s", what, strerror(errno));
    power_off();
}

/* All of len bytes, through EINTR and, on a non-blocking fd, EAGAIN. */
static int transfer_all(int fd, char *p, size_t len, int writing) {
    while (len > 0) {
        ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pfd = {fd, (short)(writing ? POLLOUT : POLLIN), 0};
            poll(&pfd, 1, -1);
            continue;
        }
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int write_all(int fd, const void *buf, size_t len) { return transfer_all(fd, (char *)buf, len, 1); }

int read_all(int fd, void *buf, size_t len) { return transfer_all(fd, buf, len, 0); }

void send_frame(uint32_t type, uint32_t stream, const void *payload, uint32_t len) {
    struct ctr_frame f = {len, type, stream};
    /* The host is gone if this fails; nothing is left to report to. */
    if (write_all(chan, &f, sizeof f) != 0 || (len && write_all(chan, payload, len) != 0)) power_off();
}

void send_ints(uint32_t type, uint32_t stream, int32_t a, int32_t b, int count) {
    int32_t v[2] = {a, b};
    send_frame(type, stream, v, (uint32_t)(count * sizeof(int32_t)));
}

int split(char *payload, uint32_t len, char **out, int max) {
    int n = 0;
    uint32_t start = 0;
    for (uint32_t i = 0; i < len && n < max; ++i)
        if (payload[i] == 0) {
            out[n++] = payload + start;
            start = i + 1;
        }
    return n;
}
