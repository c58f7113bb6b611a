#!/usr/bin/env python3
"""Ethernet hub for kernel-lab runs with three or more nodes.

Each node's NIC is a QEMU UDP socket netdev bound to 127.0.0.1:OWN_PORT and
sending to this hub. The hub forwards every frame it receives from one node
to all the others. It listens on 127.0.0.1 only, talks only to the listed
node ports, and stops by itself after LIFETIME seconds.

usage: hub.py HUB_PORT LIFETIME NODE_PORT...
"""
import select
import socket
import sys
import time


def main() -> int:
    hub_port, lifetime = int(sys.argv[1]), float(sys.argv[2])
    members = [("127.0.0.1", int(p)) for p in sys.argv[3:]]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", hub_port))
    deadline = time.monotonic() + lifetime
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return 0
        ready, _, _ = select.select([sock], [], [], min(left, 1.0))
        if not ready:
            continue
        frame, sender = sock.recvfrom(65536)
        if sender not in members:
            continue
        for member in members:
            if member != sender:
                try:
                    sock.sendto(frame, member)
                except OSError:
                    pass


if __name__ == "__main__":
    sys.exit(main())
