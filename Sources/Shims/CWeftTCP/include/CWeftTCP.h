// What Swift cannot import by itself for the TCP transport: socket option and flag
// macros, sockaddr unions, iovec/msghdr set-up for a two-segment send, getaddrinfo's
// linked list. Only thin wrappers: every decision is made in Swift (TCPSocket.swift).
#ifndef CWEFT_TCP_H
#define CWEFT_TCP_H
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <time.h>

/// Edge-triggered epoll interest (`EPOLLET`, bit 31).
static const uint32_t CWEFT_TCP_EPOLLET = 1u << 31;
static const int CWEFT_TCP_AF_INET = AF_INET;
static const int CWEFT_TCP_AF_INET6 = AF_INET6;
static const int CWEFT_TCP_SHUT_WR = SHUT_WR;
static const int CWEFT_TCP_SHUT_RDWR = SHUT_RDWR;
static const short CWEFT_TCP_POLLIN = POLLIN;
static const short CWEFT_TCP_POLLOUT = POLLOUT;

/// A non-blocking, close-on-exec stream socket. corresponding C function: `socket`.
int cweft_tcp_socket(int family);

/// Accepts one connection as a non-blocking, close-on-exec socket. corresponding C function: `accept4`.
int cweft_tcp_accept(int fd, struct sockaddr_storage *peer, socklen_t *length);

/// Sets TCP_NODELAY (no Nagle delay: Weft coalesces frames itself). corresponding C function: `setsockopt`.
static inline int cweft_tcp_set_nodelay(int fd) {
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/// Sets SO_REUSEADDR so a restarted listener can bind at once. corresponding C function: `setsockopt`.
static inline int cweft_tcp_set_reuseaddr(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
}

/// The pending error of a socket (after a non-blocking connect); -1 if the query failed.
/// corresponding C function: `getsockopt(SO_ERROR)`.
static inline int cweft_tcp_socket_error(int fd) {
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return -1;
    return error;
}

static inline int cweft_tcp_bind(int fd, const struct sockaddr_storage *address, socklen_t length) {
    return bind(fd, (const struct sockaddr *)address, length);
}

static inline int cweft_tcp_connect(int fd, const struct sockaddr_storage *address, socklen_t length) {
    return connect(fd, (const struct sockaddr *)address, length);
}

static inline int cweft_tcp_local_address(int fd, struct sockaddr_storage *address, socklen_t *length) {
    *length = sizeof *address;
    return getsockname(fd, (struct sockaddr *)address, length);
}

static inline int cweft_tcp_peer_address(int fd, struct sockaddr_storage *address, socklen_t *length) {
    *length = sizeof *address;
    return getpeername(fd, (struct sockaddr *)address, length);
}

/// Writes up to two segments in one call, without SIGPIPE and without blocking.
/// corresponding C function: `sendmsg` (a `writev` with MSG_NOSIGNAL).
static inline ssize_t cweft_tcp_send2(int fd, const void *first, size_t firstLength, const void *second,
                                      size_t secondLength) {
    struct iovec segments[2];
    segments[0].iov_base = (void *)first;
    segments[0].iov_len = firstLength;
    segments[1].iov_base = (void *)second;
    segments[1].iov_len = secondLength;
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = segments;
    message.msg_iovlen = secondLength > 0 ? 2 : 1;
    return sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/// corresponding C function: `recv`. Through libc on purpose, as `sendmsg` above: kernel-bypass
/// stacks loaded with LD_PRELOAD (Onload, VMA) intercept these calls. libc's wrappers are
/// cancellation points that switch asynchronous cancellation around each call (about 4 % of
/// a spinning TCP round trip's cycles in a profile); going through `syscall()` would save that
/// and lose those stacks.
static inline ssize_t cweft_tcp_recv(int fd, void *buffer, size_t length) {
    return recv(fd, buffer, length, MSG_DONTWAIT);
}

/// Waits for `events` on one descriptor; returns the revents, 0 on timeout, -1 on error.
/// corresponding C function: `poll`.
static inline int cweft_tcp_poll(int fd, short events, int timeoutMilliseconds) {
    struct pollfd entry;
    entry.fd = fd;
    entry.events = events;
    entry.revents = 0;
    int n = poll(&entry, 1, timeoutMilliseconds);
    if (n <= 0) return n;
    return entry.revents;
}

/// Resolves `host` (a name or a numeric address) into at most `capacity` stream addresses.
/// `passive`: for bind (an empty host means the wildcard). Returns the count, or a negative
/// getaddrinfo error code (`cweft_tcp_resolve_error` turns it into a sentence).
/// corresponding C function: `getaddrinfo`.
int cweft_tcp_resolve(const char *host, uint16_t port, int passive, struct sockaddr_storage *addresses,
                      socklen_t *lengths, int capacity);

const char *cweft_tcp_resolve_error(int code);

/// Writes the numeric host (no brackets) into `host` and the port into `port`; 0 on success.
/// corresponding C function: `inet_ntop`.
int cweft_tcp_format(const struct sockaddr_storage *address, char *host, size_t hostCapacity, uint16_t *port);

/// 1 for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
int cweft_tcp_is_loopback(const struct sockaddr_storage *address);

/// Sets the port of an IPv4 or IPv6 address.
void cweft_tcp_set_port(struct sockaddr_storage *address, uint16_t port);

static inline int cweft_tcp_family(const struct sockaddr_storage *address) { return address->ss_family; }

/// The uid owning the TCP socket whose own address is `local` and whose peer is `remote`,
/// from the kernel's socket table (one exact NETLINK_SOCK_DIAG / inet_diag request).
/// 0 on success; -1 with errno set (ENOENT: no such socket, or inet_diag is not loaded).
/// corresponding C functions: `socket(AF_NETLINK, NETLINK_SOCK_DIAG)`, `sendto`, `recv`.
int cweft_tcp_diag_uid(const struct sockaddr_storage *local, const struct sockaddr_storage *remote, uint32_t *uid);

/// Writes `address` as the kernel prints it in /proc/net/tcp and tcp6 (`0100007F:1F90`:
/// the address's 32-bit words as stored, in hex, then the port); 0 on success.
int cweft_tcp_proc_key(const struct sockaddr_storage *address, char *text, size_t capacity);

/// Monotonic nanoseconds (vDSO, no syscall).
static inline uint64_t cweft_tcp_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
