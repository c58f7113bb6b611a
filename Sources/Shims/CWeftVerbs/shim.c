#include "CWeftVerbs.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

int cweft_verbs_query_port(struct ibv_context *context, uint8_t port, struct ibv_port_attr *attributes) {
    return ibv_query_port(context, port, attributes);
}

struct ibv_mr *cweft_verbs_register(struct ibv_pd *pd, void *address, size_t length) {
    return ibv_reg_mr(pd, address, length,
                      IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE);
}

int cweft_verbs_post_send(
    struct ibv_qp *qp, uint64_t wr_id, const void *address, uint32_t length, uint32_t lkey, int signaled,
    int inline_data) {
    struct ibv_sge sge = {.addr = (uintptr_t)address, .length = length, .lkey = lkey};
    struct ibv_send_wr wr;
    memset(&wr, 0, sizeof wr);
    wr.wr_id = wr_id;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    wr.opcode = IBV_WR_SEND;
    wr.send_flags = (signaled ? IBV_SEND_SIGNALED : 0) | (inline_data ? IBV_SEND_INLINE : 0);
    struct ibv_send_wr *bad = NULL;
    return ibv_post_send(qp, &wr, &bad);
}

int cweft_verbs_post_read(
    struct ibv_qp *qp, uint64_t wr_id, void *local, uint32_t length, uint32_t lkey, uint64_t remote, uint32_t rkey) {
    struct ibv_sge sge = {.addr = (uintptr_t)local, .length = length, .lkey = lkey};
    struct ibv_send_wr wr;
    memset(&wr, 0, sizeof wr);
    wr.wr_id = wr_id;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    wr.opcode = IBV_WR_RDMA_READ;
    wr.send_flags = IBV_SEND_SIGNALED;
    wr.wr.rdma.remote_addr = remote;
    wr.wr.rdma.rkey = rkey;
    struct ibv_send_wr *bad = NULL;
    return ibv_post_send(qp, &wr, &bad);
}

int cweft_verbs_post_srq_receive(struct ibv_srq *srq, uint64_t wr_id, void *address, uint32_t length, uint32_t lkey) {
    struct ibv_sge sge = {.addr = (uintptr_t)address, .length = length, .lkey = lkey};
    struct ibv_recv_wr wr = {.wr_id = wr_id, .next = NULL, .sg_list = &sge, .num_sge = 1};
    struct ibv_recv_wr *bad = NULL;
    return ibv_post_srq_recv(srq, &wr, &bad);
}

const void *cweft_verbs_event_private_data(const struct rdma_cm_event *event, uint8_t *length) {
    if (event->id && event->id->ps == RDMA_PS_UDP) {
        *length = event->param.ud.private_data_len;
        return event->param.ud.private_data;
    }
    *length = event->param.conn.private_data_len;
    return event->param.conn.private_data;
}

void cweft_verbs_connection_parameters(
    struct rdma_conn_param *parameters, const void *private_data, uint8_t length, uint8_t responder,
    uint8_t initiator) {
    memset(parameters, 0, sizeof *parameters);
    parameters->private_data = private_data;
    parameters->private_data_len = length;
    parameters->responder_resources = responder;
    parameters->initiator_depth = initiator;
    parameters->retry_count = 7;
    // Credits keep a receive posted for every send: a receiver-not-ready NAK is a bug, and
    // failing at once (rather than retrying) makes it visible.
    parameters->rnr_retry_count = 0;
}

int cweft_verbs_resolve(const char *host, const char *port, int passive, struct sockaddr_storage *address) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    struct addrinfo *list = NULL;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &list);
    if (rc != 0) return rc;
    if (!list) return EAI_NONAME;
    memset(address, 0, sizeof *address);
    memcpy(address, list->ai_addr, list->ai_addrlen);
    freeaddrinfo(list);
    return 0;
}

int cweft_verbs_format_address(const struct sockaddr *address, char *text, size_t capacity) {
    char host[INET6_ADDRSTRLEN] = {0};
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)address;
        if (!inet_ntop(AF_INET, &in->sin_addr, host, sizeof host)) return -1;
        snprintf(text, capacity, "%s:%u", host, ntohs(in->sin_port));
        return 0;
    }
    if (address->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
        if (!inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host)) return -1;
        snprintf(text, capacity, "[%s]:%u", host, ntohs(in6->sin6_port));
        return 0;
    }
    return -1;
}

int cweft_verbs_is_loopback(const struct sockaddr *address) {
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)address;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (address->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return 0;
}

int cweft_verbs_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int cweft_verbs_wait_readable(int fd, int milliseconds) {
    struct pollfd entry = {.fd = fd, .events = POLLIN, .revents = 0};
    int rc;
    do { rc = poll(&entry, 1, milliseconds); } while (rc < 0 && errno == EINTR);
    return rc;
}

long long cweft_verbs_memlock_limit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return -1;
    if (limit.rlim_cur == RLIM_INFINITY) return -1;
    return (long long)limit.rlim_cur;
}

int cweft_verbs_has_ipc_lock(void) {
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &header, data) != 0) return 0;
    return (data[CAP_IPC_LOCK / 32].effective >> (CAP_IPC_LOCK % 32)) & 1;
}
