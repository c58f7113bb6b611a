import Distributed
import WeftCore

/// The Swift runtime answers its first question about a type (does it conform to
/// `BinaryCodable`, what are the metadata of `[T]`, which witness encodes it) by scanning
/// every conformance record in the process: with Foundation loaded, hundreds of
/// microseconds each, and the first call of a method asks several. An actor type the
/// system learns of (registered as virtual, or its first instance made) has them asked
/// then, once: a reference to it, and an array of them, go through the binary coder, and
/// its registered methods' parameter and result types are looked at (`MethodThunk.prepare`).
final class TypePreparation: Sendable {
    private let prepared = Locked<Set<ObjectIdentifier>>([])

    func prepare<A: DistributedActor>(_ sample: A, system: WeftActorSystem) where A.ID == ActorID {
        guard prepared.withLock({ $0.insert(ObjectIdentifier(A.self)).inserted }) else { return }
        if let codable = sample as? any DistributedActor & Codable { roundTrip(codable, system: system) }
        if let registered = A.self as? any RegisteredMethods.Type {
            for thunk in registered.registeredThunks().values { thunk.prepare() }
        }
    }

    /// A reference, in an array, through the binary coder and back.
    private func roundTrip<A: DistributedActor & Codable>(_ sample: A, system: WeftActorSystem) {
        var writer = BinaryWriter(growable: 256)
        defer { writer.deallocate() }
        if (try? BinaryEncoding.encode([sample], into: &writer)) != nil {
            var reader = BinaryReader(writer.bytes)
            _ = try? BinaryEncoding.decode([A].self, from: &reader, actorSystem: system)
        }
    }
}
