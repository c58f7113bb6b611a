import BarrelsGame
import WeftActors

#if canImport(Glibc)
    import Glibc
#endif

/// A member started by the game's first process: serves its share of the actors until its
/// stdin reaches end-of-file (the first process ended or closed it), then exits.
func runMember(index: Int, members: String, arguments: Arguments) async throws -> Never {
    let (configuration, descriptor) = try await loadConfiguration(arguments)
    let membership = Membership(try ClusterAddresses.decode(members))
    let node = try GameNode(
        name: ClusterAddresses.memberName(index), memberIndex: index, membership: membership, configuration: configuration,
        descriptor: descriptor)
    // Connects to the members already listening (the first process, those started before
    // this one, and itself) while joining, not on the game's first shots.
    await node.system.connectToMembers()
    writeLine("ready \(node.name)", to: 1)
    var byte: UInt8 = 0
    while true {
        let count = read(0, &byte, 1)
        if count == 0 || (count < 0 && errno != EINTR) { break }
    }
    node.shutdown()
    exit(0)
}
