// Calls that need _GNU_SOURCE live here, out of the header, so the header's
// view of libc matches the one Swift's Glibc module has.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include "CWeftCore.h"

int cweft_pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set);
}

int cweft_set_thread_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}
