// What the shared-memory transport needs from C: memfd, pidfd, SCM_RIGHTS
// (CMSG macros), SO_PEERCRED (struct ucred needs _GNU_SOURCE), abstract Unix
// addresses, and explicit acquire/release accesses to words in the shared mapping.
#ifndef CWEFT_SHARED_MEMORY_H
#define CWEFT_SHARED_MEMORY_H
#include <stddef.h>
#include <stdint.h>

/// Anonymous memory with a descriptor, sealable; freed when the last mapping and descriptor go.
int cweft_memfd_create(const char *name);
/// Fixes the memfd's size for good: `fcntl(F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)`.
int cweft_memfd_seal_size(int fd);
/// 1 when the memfd's size is sealed as `cweft_memfd_seal_size` does, 0 when not, -1 when
/// it is not a sealable memfd. corresponding C function: `fcntl(F_GET_SEALS)`.
int cweft_memfd_is_size_sealed(int fd);
/// A descriptor that becomes readable when process `pid` exits. corresponding syscall: `pidfd_open`.
int cweft_pidfd_open(int pid);
/// The peer's pid and uid on a connected Unix socket (SO_PEERCRED).
int cweft_peer_credentials(int fd, int *pid, unsigned *uid);
/// A SOCK_SEQPACKET Unix socket listening on (or connected to) the abstract name `name`
/// (Linux abstract namespace: nothing is created on disk, nothing is left behind).
int cweft_seqpacket_listen(const char *name, int backlog);
int cweft_seqpacket_connect(const char *name);
/// A non-blocking, close-on-exec eventfd (the peer's wake-up line).
int cweft_eventfd_nonblocking(void);
/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC.
int cweft_accept_nonblocking(int fd);
/// One message with up to `nfds` descriptors attached. Returns bytes sent or -1.
long cweft_send_with_fds(int fd, const void *buf, size_t len, const int *fds, int nfds);
/// Receives one message and up to `maxfds` descriptors (*nfds tells how many; extra ones are closed).
/// Returns bytes received, 0 at end of stream, -1 on error (errno set). A truncated message
/// (MSG_TRUNC, MSG_CTRUNC) is an error (EMSGSIZE) and its descriptors are closed.
long cweft_recv_with_fds(int fd, void *buf, size_t len, int *fds, int maxfds, int *nfds);

static inline uint64_t cweft_load_acquire_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void cweft_store_release_u64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline uint64_t cweft_load_u64_seq_cst(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline uint32_t cweft_load_u32_seq_cst(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void cweft_store_u32_seq_cst(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static inline uint32_t cweft_load_acquire_u32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void cweft_store_release_u32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
/// Orders the tag store before the sleeping-flag load (the producer side of the wake-up handshake).
static inline void cweft_full_fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
/// Keeps the compiler from moving the tag store past the sleeping-flag load, with no
/// instruction: the producer side when the consumer runs `cweft_membarrier_global` instead.
static inline void cweft_compiler_fence(void) { __atomic_signal_fence(__ATOMIC_SEQ_CST); }
static inline uint32_t cweft_load_relaxed_u32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

/// Registers this process for MEMBARRIER_CMD_GLOBAL_EXPEDITED, after checking that the kernel
/// has both commands. 0 on success, -1 (errno set) when it cannot.
/// corresponding syscall: `membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED)`.
int cweft_membarrier_register_global(void);
/// 1 when the kernel offers MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0 when not.
int cweft_membarrier_global_available(void);
/// A full memory barrier on every CPU that runs a thread of a registered process.
/// corresponding syscall: `membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)`.
int cweft_membarrier_global(void);

#endif
