/* The guest's NICs, as the host's network gave them to the container. */
#define _GNU_SOURCE
#include "agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Gives a NIC its address and brings it up; with a gateway, the default
 * route goes through it. IPv4 only, as the host's networks are. */
void configure_nic(const char *ifname, const char *addr, int prefix, const char *gw) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    if (addr[0]) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
        sin->sin_family = AF_INET;
        if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1 && ioctl(s, SIOCSIFADDR, &ifr) != 0) say("address of %s: %s", ifname, strerror(errno));
        sin->sin_addr.s_addr = prefix <= 0 ? 0 : htonl(0xffffffffu << (32 - prefix));
        if (ioctl(s, SIOCSIFNETMASK, &ifr) != 0) say("netmask of %s: %s", ifname, strerror(errno));
    }
    if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) say("up %s: %s", ifname, strerror(errno));
    }
    if (gw[0]) {
        struct rtentry rt;
        memset(&rt, 0, sizeof rt);
        struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst, *mask = (struct sockaddr_in *)&rt.rt_genmask,
                           *via = (struct sockaddr_in *)&rt.rt_gateway;
        dst->sin_family = mask->sin_family = via->sin_family = AF_INET;
        inet_pton(AF_INET, gw, &via->sin_addr);
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        rt.rt_dev = (char *)ifname;
        if (ioctl(s, SIOCADDRT, &rt) != 0 && errno != EEXIST) say("route via %s: %s", gw, strerror(errno));
    }
    close(s);
}

void configure_network(char *payload, uint32_t len) {
    char *parts[256];
    int n = split(payload, len, parts, 256);
    for (int i = 0; i + 3 < n; i += 4) configure_nic(parts[i], parts[i + 1], atoi(parts[i + 2]), parts[i + 3]);
}
