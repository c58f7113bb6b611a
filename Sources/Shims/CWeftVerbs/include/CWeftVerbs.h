// What Swift cannot use directly for the verbs transport: the two verbs entry points that
// are macros (`ibv_query_port`, `ibv_reg_mr`, which otherwise bind an old compatibility
// symbol), work requests with unions, rdma_cm event fields inside unions, and address
// resolution. Thin wrappers only: every decision is made in Swift (VerbsSyscalls.swift).
#ifndef CWEFT_VERBS_H
#define CWEFT_VERBS_H
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

/// corresponding C function: `ibv_query_port` (the macro, so the current ABI is used).
int cweft_verbs_query_port(struct ibv_context *context, uint8_t port, struct ibv_port_attr *attributes);

/// Registers memory for local write, remote read and remote write.
/// corresponding C function: `ibv_reg_mr` (the macro, which takes the `ibv_reg_mr_iova2` path).
struct ibv_mr *cweft_verbs_register(struct ibv_pd *pd, void *address, size_t length);

/// One send of `length` bytes at `address` (lkey), signalled or not, inline or not.
/// corresponding C function: `ibv_post_send`.
int cweft_verbs_post_send(
    struct ibv_qp *qp, uint64_t wr_id, const void *address, uint32_t length, uint32_t lkey, int signaled,
    int inline_data);

/// One RDMA READ of `length` bytes from the peer's `remote` (rkey) into `local` (lkey), signalled.
/// corresponding C function: `ibv_post_send` with `IBV_WR_RDMA_READ`.
int cweft_verbs_post_read(
    struct ibv_qp *qp, uint64_t wr_id, void *local, uint32_t length, uint32_t lkey, uint64_t remote, uint32_t rkey);

/// Posts one receive buffer to a shared receive queue. corresponding C function: `ibv_post_srq_recv`.
int cweft_verbs_post_srq_receive(struct ibv_srq *srq, uint64_t wr_id, void *address, uint32_t length, uint32_t lkey);

/// The private data an rdma_cm event carries (connect request, established, reject).
const void *cweft_verbs_event_private_data(const struct rdma_cm_event *event, uint8_t *length);

/// Connection parameters with `private_data`; `responder` and `initiator` bound RDMA READs in flight.
void cweft_verbs_connection_parameters(
    struct rdma_conn_param *parameters, const void *private_data, uint8_t length, uint8_t responder,
    uint8_t initiator);

/// Resolves numeric or named `host` and `port` to one socket address (the first); 0 on success,
/// else a getaddrinfo error code. `passive`: for binding (an empty host is the wildcard).
int cweft_verbs_resolve(const char *host, const char *port, int passive, struct sockaddr_storage *address);

/// Writes "IP:PORT" (IPv6 in brackets) of `address` into `text` (at least 64 bytes); 0 on success.
int cweft_verbs_format_address(const struct sockaddr *address, char *text, size_t capacity);

/// True when `address` is a loopback address (127.0.0.0/8 or ::1).
int cweft_verbs_is_loopback(const struct sockaddr *address);

/// Sets O_NONBLOCK on `fd`; 0 on success. corresponding C function: `fcntl`.
int cweft_verbs_set_nonblocking(int fd);

/// Waits up to `milliseconds` for `fd` to become readable: 1 ready, 0 timed out, -1 error.
/// corresponding C function: `poll`.
int cweft_verbs_wait_readable(int fd, int milliseconds);

/// The RLIMIT_MEMLOCK soft limit in bytes, or -1 for unlimited. corresponding C function: `getrlimit`.
long long cweft_verbs_memlock_limit(void);

/// True when this process holds CAP_IPC_LOCK in its effective set (then the limit does not apply).
int cweft_verbs_has_ipc_lock(void);
#endif
