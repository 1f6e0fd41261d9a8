/*
 * The agent channel of runtime-microvm: the frames that cross the
 * virtio-serial port between the plugin (host) and the guest agent (the VM's
 * /init). Both sides are little-endian x86_64 builds of this project, so a
 * frame is this header as laid out in memory, then `len` payload bytes.
 *
 * A stream is one process in the guest: 0 is the container's own process,
 * the host numbers exec'd ones from 1. Pure C, shared by the agent (C) and
 * the plugin (C++).
 */
#ifndef CTR_MICROVM_PROTOCOL_H
#define CTR_MICROVM_PROTOCOL_H

#include <stdint.h>

#define CTR_AGENT_PORT_NAME "ctr.agent"
#define CTR_AGENT_ROOTFS_TAG "rootfs"
/* The one entry of a share made for a single file ("virtiofs-file"). */
#define CTR_LONE_FILE "file"
/* A frame's payload: room for a FILE frame of 16 MiB and its id. */
#define CTR_AGENT_MAX_PAYLOAD ((16u << 20) + 4096)

struct ctr_frame {
    uint32_t len;    /* payload bytes that follow */
    uint32_t type;   /* enum ctr_frame_type */
    uint32_t stream; /* the process it concerns */
};

enum ctr_frame_type {
    /* host -> guest */
    CTR_F_RUN = 1,      /* start a process: the spec below */
    CTR_F_STDIN = 2,    /* bytes for its stdin */
    CTR_F_STDIN_EOF = 3,/* close its stdin */
    CTR_F_SIGNAL = 4,   /* payload: int32 signal number */
    CTR_F_POWEROFF = 5, /* sync and power the VM off */
    CTR_F_NETWORK = 6,  /* configure NICs: per NIC "ifname\0address\0prefix\0gateway\0" */
    CTR_F_RESIZE = 7,   /* a terminal's size: int32 rows, int32 columns */
    CTR_F_MOUNT = 8,    /* mounts, each "type\0source\0destination\0flags\0data\0"
                         * (flags: comma-separated ro, nosuid, nodev, noexec);
                         * type "file": source names a FILE frame's bytes;
                         * type "virtiofs-file": source is the tag of a share
                         * that holds one file, CTR_LONE_FILE, to bind */
    CTR_F_FILE = 9,     /* "id\0" then a file's bytes, for a "file" mount */
    CTR_F_PROCESSES = 10, /* list the guest's processes: answered by one
                           * CTR_F_PROCESS_LIST on the same stream */
    /* guest -> host */
    CTR_F_READY = 64,   /* the agent is up and the rootfs mounted; payload: its version */
    CTR_F_STARTED = 65, /* payload: int32 pid in the guest */
    CTR_F_STDOUT = 66,
    CTR_F_STDERR = 67,
    CTR_F_EXIT = 68,    /* payload: int32 exit code, int32 signal (0 if none) */
    CTR_F_FAILED = 69,  /* the process could not start. payload: int32 errno, then a message */
    CTR_F_PROCESS_LIST = 70 /* per process "pid\0ppid\0command\0" (decimal pids; the
                             * agent itself and kernel threads left out) */
};

/*
 * The RUN payload: NUL-terminated strings, in order
 *   uid, gid, cwd, hostname ("" keeps it), stdin ("1": the host sends
 *   CTR_F_STDIN; "0": /dev/null; "t": a terminal, whose output comes as
 *   CTR_F_STDOUT and input as CTR_F_STDIN), capabilities (hex masks
 *   "bounding,effective,permitted,inheritable,ambient", or "" to keep root's),
 *   no_new_privs ("1" or "0"), rlimits ("RES=soft:hard;..." with Linux's
 *   resource numbers, or ""), argc (decimal), argv[0..argc), then
 *   every environment entry "K=V" to the end.
 */

#endif
