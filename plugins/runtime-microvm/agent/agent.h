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
 *
 *   channel.c   the frames on the virtio-serial port, the console, power off
 *   boot.c      modules, the port, the shared root, the container's mounts
 *   network.c   the NICs' addresses and routes
 *   process.c   the processes: start, stdio, exits
 *   ps.c        the list of the guest's processes, for top
 *   main.c      the frame loop
 */
#ifndef CTR_MICROVM_AGENT_H
#define CTR_MICROVM_AGENT_H

#include "protocol.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_PROCS 64

struct proc {
    int used;
    uint32_t stream;
    pid_t pid;
    int out, err, in; /* our ends of its pipes (or its terminal), -1 when closed */
};

/* channel.c */
extern int chan;
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void power_off(void) __attribute__((noreturn));
void die(const char *what) __attribute__((noreturn));
int write_all(int fd, const void *buf, size_t len);
int read_all(int fd, void *buf, size_t len);
void send_frame(uint32_t type, uint32_t stream, const void *payload, uint32_t len);
void send_ints(uint32_t type, uint32_t stream, int32_t a, int32_t b, int count);
/* Splits a payload of NUL-terminated strings; returns how many. */
int split(char *payload, uint32_t len, char **out, int max);

/* boot.c */
void mount_or_die(const char *src, const char *dst, const char *type, unsigned long flags, const char *data);
void load_modules(void);
int open_port(void);
/* `shm_bytes`: the size of /dev/shm (ctr.shm= on the kernel command line,
 * the container's --shm-size); 0: the kernel's default, half the VM. */
void enter_rootfs(unsigned long long shm_bytes);
void mount_all(char *payload, uint32_t len);
void store_file(char *payload, uint32_t len);
#define FILES_DIR "/run/.container-files"

/* network.c */
void configure_nic(const char *ifname, const char *addr, int prefix, const char *gw);
void configure_network(char *payload, uint32_t len);

/* process.c */
extern struct proc procs[MAX_PROCS];
extern int own_pid_ns;
struct proc *find_stream(uint32_t stream);
void close_fd(int *fd);
void run_process(uint32_t stream, char *payload, uint32_t len);
int relay(struct proc *p, int *fd, uint32_t type);
void reap(void);

/* ps.c */
void send_process_list(uint32_t stream);

#endif
