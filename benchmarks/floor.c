/*
 * floor.c: the hardware floor for a shared-memory message, one cache line
 * bounced between two pinned threads.
 *
 * Two threads, pinned to two CPUs, share two atomics that sit on separate
 * cache lines. The pinger stores a sequence number into `ping` (release) and
 * spins until it reads the same number back from `pong` (acquire); the
 * ponger spins on `ping` and echoes each number into `pong`. One round trip
 * therefore moves a cache line from core to core twice, and nothing that
 * delivers a message through shared memory can do it in less time.
 *
 * The round trips are timed in batches (one clock read per batch, so the
 * clock does not inflate the figure); the result is the median of the batch
 * means, halved for one way, so that a vCPU migration during part of the run
 * does not move it.
 *
 * Build: cc -O2 -std=c11 -pthread -o .build-bench/floor benchmarks/floor.c
 * Usage: floor [--cpu A] [--peer-cpu B] [--round-trips N] [--batch K]
 * Prints one JSON object on stdout:
 *   {"one_way_p50_ns", "one_way_min_ns", "one_way_p99_ns",
 *    "round_trips", "batch", "cpu", "peer_cpu"}
 * where the percentiles are over batch means.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_LINE 64

/* Each atomic owns a whole cache line, so the two never share one. */
struct line {
    _Alignas(CACHE_LINE) _Atomic uint64_t value;
    char pad[CACHE_LINE - sizeof(uint64_t)];
};

static struct line ping;
static struct line pong;
static struct line ready;

struct peer_args {
    int cpu;
    uint64_t round_trips;
};

static int pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *ponger(void *arg) {
    const struct peer_args *args = arg;
    int rc = pin_to(args->cpu);
    if (rc != 0) {
        fprintf(stderr, "floor: cannot pin to CPU %d: %s\n", args->cpu, strerror(rc));
        exit(2);
    }
    atomic_store_explicit(&ready.value, 1, memory_order_release);
    for (uint64_t i = 1; i <= args->round_trips; i++) {
        while (atomic_load_explicit(&ping.value, memory_order_acquire) != i) {
        }
        atomic_store_explicit(&pong.value, i, memory_order_release);
    }
    return NULL;
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t parse_number(const char *text, const char *name, uint64_t least) {
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < least) {
        fprintf(stderr, "floor: %s wants an integer >= %llu, got '%s'\n", name,
                (unsigned long long)least, text);
        exit(2);
    }
    return (uint64_t)value;
}

int main(int argc, char **argv) {
    int cpu = 0, peer_cpu = 1;
    uint64_t round_trips = 2000000, batch = 1000;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--cpu") == 0) {
            cpu = (int)parse_number(argv[++i], "--cpu", 0);
        } else if (i + 1 < argc && strcmp(argv[i], "--peer-cpu") == 0) {
            peer_cpu = (int)parse_number(argv[++i], "--peer-cpu", 0);
        } else if (i + 1 < argc && strcmp(argv[i], "--round-trips") == 0) {
            round_trips = parse_number(argv[++i], "--round-trips", 1);
        } else if (i + 1 < argc && strcmp(argv[i], "--batch") == 0) {
            batch = parse_number(argv[++i], "--batch", 1);
        } else {
            fprintf(stderr,
                    "usage: floor [--cpu A] [--peer-cpu B] [--round-trips N] [--batch K]\n");
            return 2;
        }
    }
    if (cpu == peer_cpu) {
        /* Both spinners on one CPU would measure the scheduler's time slice. */
        fprintf(stderr, "floor: --cpu and --peer-cpu must differ\n");
        return 2;
    }
    if (batch > round_trips) batch = round_trips;
    uint64_t batches = round_trips / batch;
    round_trips = batches * batch;

    uint64_t *batch_ns = calloc(batches, sizeof(uint64_t));
    if (batch_ns == NULL) {
        fprintf(stderr, "floor: out of memory\n");
        return 1;
    }

    int rc = pin_to(cpu);
    if (rc != 0) {
        fprintf(stderr, "floor: cannot pin to CPU %d: %s\n", cpu, strerror(rc));
        return 2;
    }
    struct peer_args args = {.cpu = peer_cpu, .round_trips = round_trips};
    pthread_t thread;
    rc = pthread_create(&thread, NULL, ponger, &args);
    if (rc != 0) {
        fprintf(stderr, "floor: pthread_create: %s\n", strerror(rc));
        return 1;
    }
    while (atomic_load_explicit(&ready.value, memory_order_acquire) == 0) {
    }

    uint64_t seq = 0;
    for (uint64_t b = 0; b < batches; b++) {
        uint64_t start = now_ns();
        for (uint64_t k = 0; k < batch; k++) {
            seq++;
            atomic_store_explicit(&ping.value, seq, memory_order_release);
            while (atomic_load_explicit(&pong.value, memory_order_acquire) != seq) {
            }
        }
        batch_ns[b] = now_ns() - start;
    }
    pthread_join(thread, NULL);

    qsort(batch_ns, batches, sizeof(uint64_t), compare_u64);
    /* One way = round trip / 2; per batch mean = batch time / batch size. */
    double per = 2.0 * (double)batch;
    double p50 = (double)batch_ns[batches / 2] / per;
    double min = (double)batch_ns[0] / per;
    double p99 = (double)batch_ns[(batches * 99) / 100] / per;
    printf("{\"one_way_p50_ns\": %.2f, \"one_way_min_ns\": %.2f, \"one_way_p99_ns\": %.2f, "
           "\"round_trips\": %llu, \"batch\": %llu, \"cpu\": %d, \"peer_cpu\": %d}\n",
           p50, min, p99, (unsigned long long)round_trips, (unsigned long long)batch, cpu,
           peer_cpu);
    free(batch_ns);
    return 0;
}
