// What Swift cannot import by itself for TIPC: the AF_TIPC constants, the
// sockaddr_tipc union, the topology server's structures and the mmsghdr arrays
// of a batched send or receive. Thin wrappers only: every decision is made in
// Swift (TIPCSyscalls.swift).
#ifndef CWeftTIPC_H
#define CWeftTIPC_H
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>
#include <linux/tipc.h>
#include <poll.h>

#ifndef AF_TIPC
#define AF_TIPC 30
#endif

/// The address family number (30 on Linux).
static const int CWEFT_AF_TIPC = AF_TIPC;
static const int CWEFT_TIPC_SOCK_SEQPACKET = SOCK_SEQPACKET;
static const int CWEFT_TIPC_SOCK_RDM = SOCK_RDM;
/// Largest user message TIPC carries (66,000 bytes).
static const int CWEFT_TIPC_MAX_USER_MSG_SIZE = TIPC_MAX_USER_MSG_SIZE;
static const uint32_t CWEFT_TIPC_TOP_SRV = TIPC_TOP_SRV;
static const uint32_t CWEFT_TIPC_PUBLISHED = TIPC_PUBLISHED;
static const uint32_t CWEFT_TIPC_WITHDRAWN = TIPC_WITHDRAWN;
static const uint32_t CWEFT_TIPC_SUBSCR_TIMEOUT = TIPC_SUBSCR_TIMEOUT;
static const uint32_t CWEFT_TIPC_SUB_PORTS = TIPC_SUB_PORTS;
static const uint32_t CWEFT_TIPC_SUB_SERVICE = TIPC_SUB_SERVICE;
static const uint32_t CWEFT_TIPC_WAIT_FOREVER = TIPC_WAIT_FOREVER;
static const short CWEFT_TIPC_POLLIN = POLLIN;
static const short CWEFT_TIPC_POLLOUT = POLLOUT;
/// Edge-triggered epoll interest (`EPOLLET`, bit 31).
static const uint32_t CWEFT_TIPC_EPOLLET = 1u << 31;

/// A socket's TIPC identity: the 32-bit node address (a hash of the node identity on
/// current kernels) and the port reference, unique on that node.
typedef struct {
    uint32_t node;
    uint32_t ref;
} cweft_tipc_port;

/// One topology event: what was published or withdrawn, and by which socket.
typedef struct {
    uint32_t event;
    uint32_t type;
    uint32_t lower;
    uint32_t upper;
    cweft_tipc_port port;
} cweft_tipc_event;

/// Opens a TIPC socket of `type` (SOCK_RDM, SOCK_SEQPACKET, ...), close-on-exec,
/// non-blocking when `nonblocking` is set. Returns the descriptor, or -1 with errno.
/// corresponding C function: `socket(AF_TIPC, type, 0)`.
int cweft_tipc_socket(int type, int nonblocking);

/// Opens and closes a reliable-datagram TIPC socket: 0 when the kernel supports TIPC,
/// else the errno that `socket(AF_TIPC, SOCK_RDM, 0)` failed with.
int cweft_tipc_probe(void);

/// Publishes the service range {type, lower, upper} with cluster scope.
/// corresponding C function: `bind`.
int cweft_tipc_bind_service(int fd, uint32_t type, uint32_t lower, uint32_t upper);

/// Connects to the service {type, instance} wherever it is in the cluster.
/// corresponding C function: `connect`.
int cweft_tipc_connect_service(int fd, uint32_t type, uint32_t instance);

/// Accepts one connection as a non-blocking, close-on-exec socket; `peer` gets its port.
/// corresponding C function: `accept4`.
int cweft_tipc_accept(int fd, cweft_tipc_port *peer);

/// This socket's own port (node address and reference). corresponding C function: `getsockname`.
int cweft_tipc_own_port(int fd, cweft_tipc_port *port);

/// The connected peer's port. corresponding C function: `getpeername`.
int cweft_tipc_peer_port(int fd, cweft_tipc_port *port);

/// Sends `count` (at most 64) messages, message i being `lengths[i]` bytes at `bases[i]`,
/// without blocking. Returns how many were sent, or -1 with errno (EAGAIN: congested).
/// corresponding C function: `sendmmsg`.
int cweft_tipc_send_batch(int fd, void *const *bases, const uint32_t *lengths, int count);

/// Receives up to `count` (at most 64) messages without blocking, message i into
/// `bases[i]` (each `capacity` bytes); `lengths[i]` gets its size, and a truncated
/// message gets UINT32_MAX. Returns how many arrived (0: the peer ended the connection),
/// or -1 with errno (EAGAIN: nothing waiting). corresponding C function: `recvmmsg`.
int cweft_tipc_receive_batch(int fd, void *const *bases, uint32_t capacity, uint32_t *lengths, int count);

/// Sends one message, blocking up to the socket's own rules. corresponding C function: `send`.
long cweft_tipc_send(int fd, const void *base, size_t length);

/// Receives one message; returns its length, 0 at the end, -1 with errno; a truncated
/// message sets errno to EMSGSIZE. corresponding C function: `recvmsg`.
long cweft_tipc_receive(int fd, void *base, size_t capacity);

/// Waits up to `milliseconds` for `events` on `fd`. corresponding C function: `poll`.
int cweft_tipc_poll(int fd, short events, int milliseconds);

/// Connects a socket to the node's topology server. corresponding C function: `connect`.
int cweft_tipc_topology_connect(int fd);

/// Asks the topology server for events on {type, lower..upper}: `filter` is
/// TIPC_SUB_PORTS or TIPC_SUB_SERVICE, `timeout_ms` TIPC_WAIT_FOREVER for a lasting
/// subscription. corresponding C function: `send` of a `struct tipc_subscr`.
int cweft_tipc_subscribe(int fd, uint32_t type, uint32_t lower, uint32_t upper, uint32_t filter,
                         uint32_t timeout_ms);

/// Reads one topology event without blocking when the socket is non-blocking: 1 when an
/// event was read, 0 when the server closed, -1 with errno (EAGAIN: none waiting).
/// corresponding C function: `recv` of a `struct tipc_event`.
int cweft_tipc_read_event(int fd, cweft_tipc_event *event);

/// Lists this node's TIPC bearers into `out` (`capacity` bytes, NUL-terminated), one per
/// line as `NAME<TAB>LOCAL-IP`: the address only for UDP bearers. Returns how many, or -1
/// with errno (ENOENT: TIPC is not loaded; ENOBUFS: `out` is too small).
/// corresponding C call: a generic-netlink dump of TIPC_NL_BEARER_GET (`tipc bearer list`).
int cweft_tipc_bearers(char *out, size_t capacity);

/// Monotonic clock in nanoseconds. corresponding C function: `clock_gettime(CLOCK_MONOTONIC)`.
uint64_t cweft_tipc_now_ns(void);

#endif
