internal import CWeftTCP
import WeftCore

/// Which local user runs the other end of a loopback connection.
///
/// TCP has no `SO_PEERCRED`, but both ends of a loopback connection are sockets of this
/// host, so the kernel's socket table knows the peer's socket, and with it the uid that
/// created it: the socket whose own address is the peer's address and whose peer is ours.
/// The table is asked with one exact `NETLINK_SOCK_DIAG` request (inet_diag); where that
/// module is missing, /proc/net/tcp or tcp6 lists the same sockets with a `uid` column.
enum TCPPeerUser {
    /// Where the answer comes from.
    enum Source: CaseIterable, Sendable {
        case socketDiagnostics
        case procNetTCP
    }

    /// The uid of the process that owns the socket at `peer` connected to `local`, asking the
    /// kernel's socket table first and /proc second; nil when neither knows the socket.
    static func owner(ofPeer peer: TCPAddress, connectedTo local: TCPAddress) -> UInt32? {
        owner(ofPeer: peer, connectedTo: local, from: .socketDiagnostics)
            ?? owner(ofPeer: peer, connectedTo: local, from: .procNetTCP)
    }

    static func owner(ofPeer peer: TCPAddress, connectedTo local: TCPAddress, from source: Source) -> UInt32? {
        switch source {
        case .socketDiagnostics:
            return try? TCPSocket.socketOwner(local: peer, remote: local)
        case .procNetTCP:
            guard let table = TCPSocket.readFile(peer.isIPv6 ? "/proc/net/tcp6" : "/proc/net/tcp"),
                let peerKey = procKey(peer), let localKey = procKey(local)
            else { return nil }
            return ownerInProcTable(table, local: peerKey, remote: localKey)
        }
    }

    /// The `uid` column of the row whose `local_address` and `rem_address` are the given keys.
    ///
    /// ```
    ///   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
    ///    1: 0100007F:D78C 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 65534        0 39003 …
    /// ```
    static func ownerInProcTable(_ table: [UInt8], local: String, remote: String) -> UInt32? {
        for line in table.split(separator: UInt8(ascii: "\n")).dropFirst() {
            let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
            guard fields.count > 7 else { continue }
            guard String(decoding: fields[1], as: UTF8.self) == local,
                String(decoding: fields[2], as: UTF8.self) == remote
            else { continue }
            return UInt32(String(decoding: fields[7], as: UTF8.self))
        }
        return nil
    }

    /// `address` as /proc/net/tcp prints it.
    static func procKey(_ address: TCPAddress) -> String? {
        var text = [CChar](repeating: 0, count: 48)
        let rc = withUnsafePointer(to: address.storage) { cweft_tcp_proc_key($0, &text, text.count) }
        guard rc == 0 else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension TCPConnection {
    /// Without a cluster secret, a loopback listener admits only processes of its own user
    /// (unless `allow-unauthenticated-peers`): throws the refusal, one sentence short enough
    /// for the close frame (at most 256 bytes). IO thread, when the hello arrives.
    func admitLocalUser() throws(TransportError) {
        guard let expected = requiredPeerUID, let remote = peerSocketAddress else { return }
        let owner: UInt32?
        do {
            owner = TCPPeerUser.owner(ofPeer: remote, connectedTo: try TCPSocket.localAddress(fd))
        } catch {
            throw .system(error)
        }
        guard let owner else {
            throw .handshakeFailed(
                "the kernel's socket table does not show which user runs the peer, and without a cluster secret"
                    + " only this user's processes (uid \(expected)) may connect")
        }
        guard owner == expected else {
            throw .handshakeFailed(
                "uid \(owner) may not connect: without a cluster secret, loopback TCP admits only this user's"
                    + " processes (uid \(expected)); use --secret-file, or allow-unauthenticated-peers (unsafe)")
        }
    }
}
