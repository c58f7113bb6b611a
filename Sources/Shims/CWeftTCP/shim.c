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

// The owner of one TCP socket, found by its 4-tuple in the kernel's socket table with one
// exact-match NETLINK_SOCK_DIAG request (inet_diag). The kernel answers inside sendmsg,
// so the reply is read without waiting.
#include <errno.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

static void cweft_tcp_diag_endpoint(const struct sockaddr_storage *address, __be16 *port, __be32 words[4]) {
    if (address->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
        *port = v4->sin_port;
        words[0] = v4->sin_addr.s_addr;
    } else {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)address;
        *port = v6->sin6_port;
        memcpy(words, &v6->sin6_addr, 16);
    }
}

int cweft_tcp_diag_uid(const struct sockaddr_storage *local, const struct sockaddr_storage *remote, uint32_t *uid) {
    if (local->ss_family != remote->ss_family || (local->ss_family != AF_INET && local->ss_family != AF_INET6)) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return -1;
    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
    } query;
    memset(&query, 0, sizeof query);
    query.header.nlmsg_len = sizeof query;
    query.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    query.header.nlmsg_flags = NLM_F_REQUEST;
    query.request.sdiag_family = (uint8_t)local->ss_family;
    query.request.sdiag_protocol = IPPROTO_TCP;
    query.request.idiag_states = ~0u;
    query.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    query.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    cweft_tcp_diag_endpoint(local, &query.request.id.idiag_sport, query.request.id.idiag_src);
    cweft_tcp_diag_endpoint(remote, &query.request.id.idiag_dport, query.request.id.idiag_dst);
    struct sockaddr_nl kernel;
    memset(&kernel, 0, sizeof kernel);
    kernel.nl_family = AF_NETLINK;
    ssize_t sent;
    do {
        sent = sendto(fd, &query, sizeof query, 0, (struct sockaddr *)&kernel, sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    union {
        char bytes[4096];
        struct nlmsghdr align;
    } reply;
    ssize_t received;
    do {
        received = recv(fd, reply.bytes, sizeof reply.bytes, MSG_DONTWAIT);
    } while (received < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (received < 0) {
        errno = saved;
        return -1;
    }
    int length = (int)received;
    for (struct nlmsghdr *message = &reply.align; NLMSG_OK(message, length); message = NLMSG_NEXT(message, length)) {
        if (message->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *error = NLMSG_DATA(message);
            errno = error->error < 0 ? -error->error : ENOENT;
            return -1;
        }
        if (message->nlmsg_type == SOCK_DIAG_BY_FAMILY
            && message->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
            const struct inet_diag_msg *found = NLMSG_DATA(message);
            *uid = found->idiag_uid;
            return 0;
        }
    }
    errno = ENOENT;
    return -1;
}

int cweft_tcp_proc_key(const struct sockaddr_storage *address, char *text, size_t capacity) {
    uint32_t words[4];
    if (address->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
        memcpy(words, &v4->sin_addr, 4);
        int n = snprintf(text, capacity, "%08X:%04X", words[0], (unsigned)ntohs(v4->sin_port));
        return n > 0 && (size_t)n < capacity ? 0 : -1;
    }
    if (address->ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)address;
        memcpy(words, &v6->sin6_addr, 16);
        int n = snprintf(text, capacity, "%08X%08X%08X%08X:%04X", words[0], words[1], words[2], words[3],
                         (unsigned)ntohs(v6->sin6_port));
        return n > 0 && (size_t)n < capacity ? 0 : -1;
    }
    return -1;
}
