// Calls that need _GNU_SOURCE (accept4, SOCK_NONBLOCK) or walk libc lists live here,
// out of the header, so the header's view of libc matches Swift's Glibc module.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "CWeftTCP.h"

int cweft_tcp_socket(int family) {
    return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
}

int cweft_tcp_accept(int fd, struct sockaddr_storage *peer, socklen_t *length) {
    *length = sizeof *peer;
    return accept4(fd, (struct sockaddr *)peer, length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int cweft_tcp_resolve(const char *host, uint16_t port, int passive, struct sockaddr_storage *addresses,
                      socklen_t *lengths, int capacity) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo *list = NULL;
    int rc = getaddrinfo(host && host[0] ? host : NULL, service, &hints, &list);
    if (rc != 0) return rc < 0 ? rc : -rc;
    int count = 0;
    for (struct addrinfo *entry = list; entry && count < capacity; entry = entry->ai_next) {
        if (entry->ai_addrlen > sizeof(struct sockaddr_storage)) continue;
        if (entry->ai_family != AF_INET && entry->ai_family != AF_INET6) continue;
        memset(&addresses[count], 0, sizeof addresses[count]);
        memcpy(&addresses[count], entry->ai_addr, entry->ai_addrlen);
        lengths[count] = entry->ai_addrlen;
        count++;
    }
    freeaddrinfo(list);
    return count;
}

const char *cweft_tcp_resolve_error(int code) { return gai_strerror(code); }

int cweft_tcp_format(const struct sockaddr_storage *address, char *host, size_t hostCapacity, uint16_t *port) {
    if (address->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
        if (!inet_ntop(AF_INET, &v4->sin_addr, host, hostCapacity)) return -1;
        *port = ntohs(v4->sin_port);
        return 0;
    }
    if (address->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)address;
        if (!inet_ntop(AF_INET6, &v6->sin6_addr, host, hostCapacity)) return -1;
        *port = ntohs(v6->sin6_port);
        return 0;
    }
    return -1;
}

int cweft_tcp_is_loopback(const struct sockaddr_storage *address) {
    if (address->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
        return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    }
    if (address->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)address;
        if (IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return 1;
        if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) return v6->sin6_addr.s6_addr[12] == 127;
    }
    return 0;
}

void cweft_tcp_set_port(struct sockaddr_storage *address, uint16_t port) {
    if (address->ss_family == AF_INET) ((struct sockaddr_in *)address)->sin_port = htons(port);
    else if (address->ss_family == AF_INET6) ((struct sockaddr_in6 *)address)->sin6_port = htons(port);
}
