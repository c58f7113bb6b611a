import WeftCore

/// One example of every kind of malformed frame a receiver must reject.
public enum MalformedFrames {
    public static func all(limits: FrameLimits) -> [(String, [UInt8])] {
        func frame(_ mutate: (UnsafeMutableRawPointer) -> Void, payload: Int = 8) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: FrameLayout.headerSize + payload)
            bytes.withUnsafeMutableBytes { raw in
                FrameHeader(kind: .data, payloadLength: UInt32(payload)).encode(to: raw.baseAddress!)
                mutate(raw.baseAddress!)
            }
            return bytes
        }
        func rendezvous(_ kind: MessageKind, payload: Int) -> [UInt8] {
            frame(
                { raw in
                    raw.storeBytes(of: kind.rawValue, toByteOffset: FrameLayout.kindOffset, as: UInt8.self)
                    if kind == .rendezvousReady {
                        RendezvousReady(address: 0x1000, remoteKey: 7, frameLength: 64, token: 1).encode(
                            to: raw + FrameLayout.headerSize)
                    }
                }, payload: payload)
        }
        return [
            ("bad magic", frame { $0.storeBytes(of: UInt32(0xDEAD_BEEF), as: UInt32.self) }),
            ("unknown version", frame { $0.storeBytes(of: UInt8(99), toByteOffset: FrameLayout.versionOffset, as: UInt8.self) }),
            ("unknown kind", frame { $0.storeBytes(of: UInt8(200), toByteOffset: FrameLayout.kindOffset, as: UInt8.self) }),
            (
                "length beyond the limit",
                frame {
                    $0.storeBytes(
                        of: (limits.maxFramePayload &+ 1).littleEndian, toByteOffset: FrameLayout.payloadLengthOffset,
                        as: UInt32.self)
                }
            ),
            (
                "reserved bits set",
                frame { $0.storeBytes(of: UInt32(7), toByteOffset: FrameLayout.reservedOffset, as: UInt32.self) }
            ),
            (
                "handshake after establishment",
                frame { $0.storeBytes(of: MessageKind.hello.rawValue, toByteOffset: FrameLayout.kindOffset, as: UInt8.self) }
            ),
            // Verbs reads this one and fails on the bogus address; every other transport refuses the kind.
            ("RDMA rendezvous ready", rendezvous(.rendezvousReady, payload: RendezvousReady.size)),
            ("RDMA rendezvous done for no rendezvous", rendezvous(.rendezvousDone, payload: RendezvousDone.size)),
        ]
    }
}
