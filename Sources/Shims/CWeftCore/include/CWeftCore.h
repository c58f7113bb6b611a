// What Swift cannot import by itself for the IO-thread runtime: epoll, eventfd,
// CPU affinity and the pause instruction.
#ifndef CWEFT_CORE_H
#define CWEFT_CORE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static inline int cweft_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

/// Registers `fd` with `data` as its user token. corresponding C function: `epoll_ctl`.
static inline int cweft_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}

/// Waits and copies out at most `max` (token, events) pairs. corresponding C function: `epoll_wait`.
static inline int cweft_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event evs[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        tokens[i] = evs[i].data.u64;
        events[i] = evs[i].events;
    }
    return n;
}

static inline int cweft_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

static const uint32_t CWEFT_EPOLLIN = EPOLLIN;
static const uint32_t CWEFT_EPOLLOUT = EPOLLOUT;
static const uint32_t CWEFT_EPOLLERR = EPOLLERR;
static const uint32_t CWEFT_EPOLLHUP = EPOLLHUP;
static const uint32_t CWEFT_EPOLLRDHUP = EPOLLRDHUP;
static const int CWEFT_EPOLL_CTL_ADD = EPOLL_CTL_ADD;
static const int CWEFT_EPOLL_CTL_MOD = EPOLL_CTL_MOD;
static const int CWEFT_EPOLL_CTL_DEL = EPOLL_CTL_DEL;

/// Lets the calling thread run on `count` CPUs only; -1 with errno on failure (EINVAL: none
/// of them is in the thread's cpuset or online). corresponding C function: `sched_setaffinity`.
int cweft_set_current_thread_affinity(const int *cpus, int count);

/// Writes the CPUs the calling thread may run on (its cpuset) into `cpus`, at most `max`;
/// returns how many, or -1 with errno. corresponding C function: `sched_getaffinity`.
int cweft_get_current_thread_affinity(int *cpus, int max);

/// Monotonic nanoseconds (vDSO, no syscall).
static inline uint64_t cweft_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/// Monotonic nanoseconds at the kernel tick's resolution (a few ms; vDSO, no syscall, cheaper
/// than `cweft_now_ns`): the IO thread's clock for liveness, read once per loop turn.
static inline uint64_t cweft_coarse_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/// A spin-wait hint: lets the sibling hyperthread run and saves power while busy-polling.
static inline void cweft_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Makes every page of `[base, base + bytes)` present by rewriting one byte per page
/// (volatile, so the compiler keeps the store; the contents do not change).
static inline void cweft_touch_pages(void *base, size_t bytes, size_t page) {
    for (size_t offset = 0; offset < bytes; offset += page) {
        volatile unsigned char *byte = (volatile unsigned char *)base + offset;
        *byte = *byte;
    }
}

/// Names the calling thread (15 characters at most). corresponding C function: `pthread_setname_np`.
int cweft_set_thread_name(const char *name);

/// Tells ThreadSanitizer that a lock at `address` was taken / is being given back
/// (`__tsan_acquire` / `__tsan_release`); nothing in a build without it. Swift's `Mutex`
/// locks inside the standard library, where ThreadSanitizer cannot see it.
void cweft_tsan_acquire(void *address);
void cweft_tsan_release(void *address);

#endif
