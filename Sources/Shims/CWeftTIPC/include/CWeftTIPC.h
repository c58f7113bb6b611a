// What Swift cannot import by itself for TIPC: the AF_TIPC constants and the
// sockaddr_tipc union from <linux/tipc.h>. Only the probe uses it so far.
#ifndef CWeftTIPC_H
#define CWeftTIPC_H
#include <sys/socket.h>
#include <linux/tipc.h>

#ifndef AF_TIPC
#define AF_TIPC 30
#endif

/// The address family number (30 on Linux).
static const int CWEFT_AF_TIPC = AF_TIPC;

/// Opens a TIPC socket of `type` (SOCK_RDM, SOCK_SEQPACKET, ...), close-on-exec.
/// Returns the descriptor, or -1 with errno set (EAFNOSUPPORT without the tipc module).
/// corresponding C function: `socket(AF_TIPC, type, 0)`.
int cweft_tipc_socket(int type);

/// Opens and closes a reliable-datagram TIPC socket: 0 when the kernel supports TIPC,
/// else the errno that `socket(AF_TIPC, SOCK_RDM, 0)` failed with.
int cweft_tipc_probe(void);

#endif
