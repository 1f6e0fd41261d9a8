/*
 * tcpblast: one TCP stream, measured from inside a container, so that the
 * figure is the network's and not the engine's start time or busybox nc's
 * small buffers. Built static: it runs in any image.
 *
 *   tcpblast sink PORT          accepts streams forever, discards them
 *   tcpblast send IP PORT MIB   sends MIB MiB, prints "Gbit/s SECONDS"
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { BUF = 1 << 20 };
static char buf[BUF];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int sink(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 8) != 0) { perror("tcpblast: listen"); return 1; }
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) continue;
        while (read(c, buf, BUF) > 0) {}
        close(c);
    }
}

static int send_(const char *ip, int port, long mib) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) { fprintf(stderr, "tcpblast: bad address %s\n", ip); return 2; }
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) { perror("tcpblast: connect"); return 1; }
    double t0 = now();
    for (long i = 0; i < mib; i++)
        for (size_t off = 0; off < BUF;) {
            ssize_t n = write(s, buf + off, BUF - off);
            if (n <= 0) { perror("tcpblast: write"); return 1; }
            off += (size_t)n;
        }
    shutdown(s, SHUT_WR);
    while (read(s, buf, BUF) > 0) {}  /* the sink has read everything */
    double secs = now() - t0;
    printf("%.2f %.3f\n", (double)mib * 8.0 / 1024.0 / secs, secs);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "sink") == 0) return sink(atoi(argv[2]));
    if (argc == 5 && strcmp(argv[1], "send") == 0) return send_(argv[2], atoi(argv[3]), atol(argv[4]));
    fprintf(stderr, "usage: tcpblast sink PORT | tcpblast send IP PORT MIB\n");
    return 2;
}
