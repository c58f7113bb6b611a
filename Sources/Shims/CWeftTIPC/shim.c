#include "CWeftTIPC.h"
#include <errno.h>
#include <unistd.h>

int cweft_tipc_socket(int type) {
    return socket(AF_TIPC, type | SOCK_CLOEXEC, 0);
}

int cweft_tipc_probe(void) {
    int fd = cweft_tipc_socket(SOCK_RDM);
    if (fd < 0) return errno;
    close(fd);
    return 0;
}
