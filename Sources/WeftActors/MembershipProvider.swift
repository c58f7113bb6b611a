/// Keeps a system's `Membership` current. A static list needs no provider; `SeedMembership`
/// joins through a seed node over the system's own transport; a transport's discovery
/// (TIPC's topology server publishing and withdrawing node names) implements the same
/// protocol later.
///
/// What every implementation must do (and what `MembershipTests` checks for the seed):
/// after `start`, every live member's `membership` lists every other live member; a member
/// that leaves (`leave`) or dies is removed from every remaining member's table within
/// the provider's detection time, so that placement moves its virtual actors to the
/// remaining members, where they are activated again on their next call.
public protocol MembershipProvider: AnyObject, Sendable {
    /// Joins the cluster and keeps `system.membership` current until `stop`.
    /// Call after registering the system's virtual actor types.
    func start(on system: WeftActorSystem) async throws
    /// Tells the cluster this member is leaving, then stops; the others remove it at once.
    func leave() async
    /// Stops watching (the system's shutdown does not call it).
    func stop()
}
