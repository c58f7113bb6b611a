#define _GNU_SOURCE
#include "CWeftTIPC.h"
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>

int cweft_tipc_socket(int type, int nonblocking) {
    return socket(AF_TIPC, type | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
}

int cweft_tipc_probe(void) {
    int fd = cweft_tipc_socket(SOCK_RDM, 0);
    if (fd < 0) return errno;
    close(fd);
    return 0;
}

int cweft_tipc_bind_service(int fd, uint32_t type, uint32_t lower, uint32_t upper) {
    struct sockaddr_tipc address;
    memset(&address, 0, sizeof address);
    address.family = AF_TIPC;
    address.addrtype = TIPC_SERVICE_RANGE;
    address.scope = TIPC_CLUSTER_SCOPE;
    address.addr.nameseq.type = type;
    address.addr.nameseq.lower = lower;
    address.addr.nameseq.upper = upper;
    return bind(fd, (struct sockaddr *)&address, sizeof address);
}

int cweft_tipc_connect_service(int fd, uint32_t type, uint32_t instance) {
    struct sockaddr_tipc address;
    memset(&address, 0, sizeof address);
    address.family = AF_TIPC;
    address.addrtype = TIPC_SERVICE_ADDR;
    address.addr.name.name.type = type;
    address.addr.name.name.instance = instance;
    address.addr.name.domain = 0;
    return connect(fd, (struct sockaddr *)&address, sizeof address);
}

static void port_of(const struct sockaddr_tipc *address, cweft_tipc_port *port) {
    port->node = address->addr.id.node;
    port->ref = address->addr.id.ref;
}

int cweft_tipc_accept(int fd, cweft_tipc_port *peer) {
    struct sockaddr_tipc address;
    socklen_t length = sizeof address;
    memset(&address, 0, sizeof address);
    int accepted = accept4(fd, (struct sockaddr *)&address, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (accepted >= 0 && peer) port_of(&address, peer);
    return accepted;
}

int cweft_tipc_own_port(int fd, cweft_tipc_port *port) {
    struct sockaddr_tipc address;
    socklen_t length = sizeof address;
    memset(&address, 0, sizeof address);
    if (getsockname(fd, (struct sockaddr *)&address, &length) != 0) return -1;
    port_of(&address, port);
    return 0;
}

int cweft_tipc_peer_port(int fd, cweft_tipc_port *port) {
    struct sockaddr_tipc address;
    socklen_t length = sizeof address;
    memset(&address, 0, sizeof address);
    if (getpeername(fd, (struct sockaddr *)&address, &length) != 0) return -1;
    port_of(&address, port);
    return 0;
}

enum { BATCH_MAX = 64 };

int cweft_tipc_send_batch(int fd, void *const *bases, const uint32_t *lengths, int count) {
    struct mmsghdr messages[BATCH_MAX];
    struct iovec vectors[BATCH_MAX];
    if (count > BATCH_MAX) count = BATCH_MAX;
    memset(messages, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int i = 0; i < count; i++) {
        vectors[i].iov_base = bases[i];
        vectors[i].iov_len = lengths[i];
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    if (count == 1) {
        // One message: plain sendmsg costs less than the batched entry point.
        ssize_t sent = sendmsg(fd, &messages[0].msg_hdr, MSG_DONTWAIT | MSG_NOSIGNAL);
        return sent < 0 ? -1 : 1;
    }
    return sendmmsg(fd, messages, (unsigned)count, MSG_DONTWAIT | MSG_NOSIGNAL);
}

int cweft_tipc_receive_batch(int fd, void *const *bases, uint32_t capacity, uint32_t *lengths, int count) {
    struct mmsghdr messages[BATCH_MAX];
    struct iovec vectors[BATCH_MAX];
    if (count > BATCH_MAX) count = BATCH_MAX;
    memset(messages, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int i = 0; i < count; i++) {
        vectors[i].iov_base = bases[i];
        vectors[i].iov_len = capacity;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    int received;
    if (count == 1) {
        ssize_t length = recvmsg(fd, &messages[0].msg_hdr, MSG_DONTWAIT);
        if (length < 0) return -1;
        messages[0].msg_len = (unsigned)length;
        received = 1;
    } else {
        received = recvmmsg(fd, messages, (unsigned)count, MSG_DONTWAIT, NULL);
        if (received < 0) return -1;
    }
    for (int i = 0; i < received; i++) {
        lengths[i] = (messages[i].msg_hdr.msg_flags & MSG_TRUNC) ? UINT32_MAX : messages[i].msg_len;
    }
    return received;
}

long cweft_tipc_send(int fd, const void *base, size_t length) {
    return (long)send(fd, base, length, MSG_NOSIGNAL);
}

long cweft_tipc_receive(int fd, void *base, size_t capacity) {
    struct iovec vector = {.iov_base = base, .iov_len = capacity};
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    ssize_t length = recvmsg(fd, &message, 0);
    if (length >= 0 && (message.msg_flags & MSG_TRUNC)) {
        errno = EMSGSIZE;
        return -1;
    }
    return (long)length;
}

int cweft_tipc_poll(int fd, short events, int milliseconds) {
    struct pollfd entry = {.fd = fd, .events = events, .revents = 0};
    int ready = poll(&entry, 1, milliseconds);
    if (ready > 0 && (entry.revents & (POLLERR | POLLHUP)) && !(entry.revents & events)) return 1;
    return ready;
}

int cweft_tipc_topology_connect(int fd) {
    return cweft_tipc_connect_service(fd, TIPC_TOP_SRV, TIPC_TOP_SRV);
}

int cweft_tipc_subscribe(int fd, uint32_t type, uint32_t lower, uint32_t upper, uint32_t filter,
                         uint32_t timeout_ms) {
    struct tipc_subscr subscription;
    memset(&subscription, 0, sizeof subscription);
    // Host byte order: the server answers in the order the subscription used.
    subscription.seq.type = type;
    subscription.seq.lower = lower;
    subscription.seq.upper = upper;
    subscription.timeout = timeout_ms;
    subscription.filter = filter;
    ssize_t sent = send(fd, &subscription, sizeof subscription, MSG_NOSIGNAL);
    return sent == (ssize_t)sizeof subscription ? 0 : -1;
}

int cweft_tipc_read_event(int fd, cweft_tipc_event *event) {
    struct tipc_event raw;
    ssize_t length = recv(fd, &raw, sizeof raw, 0);
    if (length < 0) return -1;
    if (length == 0) return 0;
    if (length != (ssize_t)sizeof raw) {
        errno = EPROTO;
        return -1;
    }
    event->event = raw.event;
    event->type = raw.s.seq.type;
    event->lower = raw.found_lower;
    event->upper = raw.found_upper;
    event->port.node = raw.port.node;
    event->port.ref = raw.port.ref;
    return 1;
}

uint64_t cweft_tipc_now_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}
