// Calls that need _GNU_SOURCE live here, out of the header, so the header's
// view of libc matches the one Swift's Glibc module has.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include "CWeftCore.h"

/// Room for 8192 CPUs: sched_getaffinity fails with EINVAL when the mask is smaller than
/// the kernel's CPU count.
enum { CWEFT_MAX_CPUS = 8192 };

int cweft_set_current_thread_affinity(const int *cpus, int count) {
    cpu_set_t *set = CPU_ALLOC(CWEFT_MAX_CPUS);
    if (set == NULL) return -1;
    size_t size = CPU_ALLOC_SIZE(CWEFT_MAX_CPUS);
    CPU_ZERO_S(size, set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CWEFT_MAX_CPUS) {
            CPU_FREE(set);
            errno = EINVAL;
            return -1;
        }
        CPU_SET_S(cpus[i], size, set);
    }
    int rc = sched_setaffinity(0, size, set);
    CPU_FREE(set);
    return rc;
}

int cweft_get_current_thread_affinity(int *cpus, int max) {
    cpu_set_t *set = CPU_ALLOC(CWEFT_MAX_CPUS);
    if (set == NULL) return -1;
    size_t size = CPU_ALLOC_SIZE(CWEFT_MAX_CPUS);
    int rc = sched_getaffinity(0, size, set);
    int n = 0;
    if (rc == 0) {
        for (int cpu = 0; cpu < CWEFT_MAX_CPUS && n < max; cpu++) {
            if (CPU_ISSET_S(cpu, size, set)) cpus[n++] = cpu;
        }
    }
    CPU_FREE(set);
    return rc == 0 ? n : -1;
}

int cweft_set_thread_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

// Weak: defined only when the ThreadSanitizer runtime is linked in.
extern void __tsan_acquire(void *address) __attribute__((weak));
extern void __tsan_release(void *address) __attribute__((weak));

void cweft_tsan_acquire(void *address) {
    if (__tsan_acquire) __tsan_acquire(address);
}

void cweft_tsan_release(void *address) {
    if (__tsan_release) __tsan_release(address);
}
