import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A one-shot wait for a job handed to an IO thread (setup paths only).
final class DispatchSemaphoreLite: @unchecked Sendable {
    private var semaphore = sem_t()

    init() { sem_init(&semaphore, 0, 0) }
    deinit { sem_destroy(&semaphore) }

    func signal() { sem_post(&semaphore) }

    func wait() {
        while sem_wait(&semaphore) != 0 && errno == EINTR {}
    }
}
