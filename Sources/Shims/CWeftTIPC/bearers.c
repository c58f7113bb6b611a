// The node's TIPC bearers, read from the kernel over generic netlink (family "TIPCv2",
// TIPC_NL_BEARER_GET as a dump), so that NUMA placement can find the interface TIPC
// traffic leaves through. Read-only: no capability needed.
#define _GNU_SOURCE
#include "CWeftTIPC.h"
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/tipc_netlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

enum { reply_capacity = 16384 };

typedef struct {
    struct nlmsghdr header;
    struct genlmsghdr genl;
    char attributes[64];
} request;

static int put_string_attribute(request *message, uint16_t type, const char *value) {
    size_t length = strlen(value) + 1;
    struct nlattr *attribute = (struct nlattr *)((char *)message + NLMSG_ALIGN(message->header.nlmsg_len));
    size_t total = NLA_HDRLEN + length;
    if (NLMSG_ALIGN(message->header.nlmsg_len) + NLA_ALIGN(total) > sizeof *message) return -1;
    attribute->nla_type = type;
    attribute->nla_len = (uint16_t)total;
    memcpy((char *)attribute + NLA_HDRLEN, value, length);
    message->header.nlmsg_len = (uint32_t)(NLMSG_ALIGN(message->header.nlmsg_len) + NLA_ALIGN(total));
    return 0;
}

static int send_request(int fd, uint16_t family, uint8_t command, uint16_t flags, uint32_t sequence,
                        const char *family_name) {
    request message;
    memset(&message, 0, sizeof message);
    message.header.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
    message.header.nlmsg_type = family;
    message.header.nlmsg_flags = NLM_F_REQUEST | flags;
    message.header.nlmsg_seq = sequence;
    message.genl.cmd = command;
    message.genl.version = family_name ? 1 : TIPC_GENL_V2_VERSION;
    if (family_name && put_string_attribute(&message, CTRL_ATTR_FAMILY_NAME, family_name) != 0) return -1;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    return sendto(fd, &message, message.header.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0 ? -1 : 0;
}

/// The first attribute of `type` among `length` bytes of attributes at `start`, or NULL.
static const struct nlattr *find_attribute(const void *start, size_t length, uint16_t type) {
    const char *cursor = start;
    while (length >= NLA_HDRLEN) {
        const struct nlattr *attribute = (const struct nlattr *)cursor;
        if (attribute->nla_len < NLA_HDRLEN || attribute->nla_len > length) return NULL;
        if ((attribute->nla_type & NLA_TYPE_MASK) == type) return attribute;
        size_t step = NLA_ALIGN(attribute->nla_len);
        if (step >= length) return NULL;
        cursor += step;
        length -= step;
    }
    return NULL;
}

static const void *payload(const struct nlattr *attribute) { return (const char *)attribute + NLA_HDRLEN; }
static size_t payload_length(const struct nlattr *attribute) { return attribute->nla_len - NLA_HDRLEN; }

/// Appends "NAME\tLOCAL-IP\n" for one bearer (the address only for UDP bearers).
static int append_bearer(const struct nlattr *bearer, char *out, size_t capacity, size_t *used) {
    const struct nlattr *name = find_attribute(payload(bearer), payload_length(bearer), TIPC_NLA_BEARER_NAME);
    if (!name || payload_length(name) == 0) return 0;
    char address[INET6_ADDRSTRLEN] = "";
    const struct nlattr *udp = find_attribute(payload(bearer), payload_length(bearer), TIPC_NLA_BEARER_UDP_OPTS);
    const struct nlattr *local = udp ? find_attribute(payload(udp), payload_length(udp), TIPC_NLA_UDP_LOCAL) : NULL;
    if (local && payload_length(local) >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_storage *storage = payload(local);
        if (storage->ss_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)storage)->sin_addr, address, sizeof address);
        else if (storage->ss_family == AF_INET6 && payload_length(local) >= sizeof(struct sockaddr_in6))
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)storage)->sin6_addr, address, sizeof address);
    }
    int written = snprintf(out + *used, capacity - *used, "%.*s\t%s\n", (int)strnlen(payload(name), payload_length(name)),
                           (const char *)payload(name), address);
    if (written < 0 || (size_t)written >= capacity - *used) return -1;
    *used += (size_t)written;
    return 1;
}

/// Receives one datagram of replies to `sequence` and walks them; returns 1 when the
/// dump (or the single reply) is complete, 0 for more, -1 with errno.
static int receive_replies(int fd, uint32_t sequence, uint16_t *family, char *out, size_t capacity, size_t *used,
                           int *count) {
    static _Thread_local char reply[reply_capacity];
    ssize_t received = recv(fd, reply, sizeof reply, 0);
    if (received < 0) return -1;
    for (struct nlmsghdr *header = (struct nlmsghdr *)reply; NLMSG_OK(header, (size_t)received);
         header = NLMSG_NEXT(header, received)) {
        if (header->nlmsg_seq != sequence) continue;
        if (header->nlmsg_type == NLMSG_DONE) return 1;
        if (header->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *error = NLMSG_DATA(header);
            if (error->error == 0) return 1;
            errno = -error->error;
            return -1;
        }
        const char *attributes = (const char *)NLMSG_DATA(header) + GENL_HDRLEN;
        size_t length = header->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
        if (family) {
            const struct nlattr *id = find_attribute(attributes, length, CTRL_ATTR_FAMILY_ID);
            if (!id || payload_length(id) < sizeof(uint16_t)) { errno = EPROTO; return -1; }
            memcpy(family, payload(id), sizeof *family);
            return 1;
        }
        const struct nlattr *bearer = find_attribute(attributes, length, TIPC_NLA_BEARER);
        if (!bearer) continue;
        int appended = append_bearer(bearer, out, capacity, used);
        if (appended < 0) { errno = ENOBUFS; return -1; }
        *count += appended;
    }
    return 0;
}

int cweft_tipc_bearers(char *out, size_t capacity) {
    if (capacity == 0) { errno = EINVAL; return -1; }
    out[0] = 0;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    if (fd < 0) return -1;
    struct timeval limit = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    uint16_t family = 0;
    size_t used = 0;
    int count = 0, state = 0;
    if (send_request(fd, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, 1, TIPC_GENL_V2_NAME) != 0) goto fail;
    while ((state = receive_replies(fd, 1, &family, out, capacity, &used, &count)) == 0) {}
    if (state < 0) goto fail;
    if (send_request(fd, family, TIPC_NL_BEARER_GET, NLM_F_DUMP, 2, NULL) != 0) goto fail;
    while ((state = receive_replies(fd, 2, NULL, out, capacity, &used, &count)) == 0) {}
    if (state < 0) goto fail;
    close(fd);
    return count;
fail:;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}
