import Testing

@testable import WeftVerbs

/// Several rendezvous share one region: frames placed in order, never overlapping bytes in
/// use, never straddling the region's end, freed in order.
@Suite struct RendezvousRingTests {
    static let mebibyte = 1 << 20

    /// Four 1 MiB frames fit a 4 MiB + 4 KiB region at once; a fifth waits for the first.
    @Test func framesShareTheRegionUntilItIsFull() throws {
        var ring = RendezvousRing(capacity: 4 * Self.mebibyte + 4096)
        var ends: [UInt64] = []
        for index in 0..<4 {
            let startPlaced = ring.place(Self.mebibyte + 32, head: 0)
            let start = try #require(startPlaced)
            #expect(ring.offset(start) == index * (Self.mebibyte + 64))
            ends.append(ring.tail)
        }
        let outcome1 = ring.place(Self.mebibyte + 32, head: 0)
        #expect(outcome1 == nil)
        // The first frame freed: the fifth goes at the region's start, not across its end.
        let fifthPlaced = ring.place(Self.mebibyte + 32, head: ends[0])
        let fifth = try #require(fifthPlaced)
        #expect(ring.offset(fifth) == 0)
    }

    /// A frame that would cross the end starts the next lap; the skipped bytes count as used
    /// until the frames before them are freed.
    @Test func framesNeverStraddleTheEnd() throws {
        var ring = RendezvousRing(capacity: 1000)
        let firstPlaced = ring.place(600, head: 0)
        let first = try #require(firstPlaced)
        #expect(first == 0)
        let outcome2 = ring.place(600, head: 0)
        #expect(outcome2 == nil)
        let secondPlaced = ring.place(320, head: 0)
        let second = try #require(secondPlaced)
        #expect(ring.offset(second) == 640)
        let thirdPlaced = ring.place(300, head: 640)
        let third = try #require(thirdPlaced)
        #expect(ring.offset(third) == 0)
        #expect(third == 1000)
    }

    /// An empty ring takes the largest frame wherever its tail stands.
    @Test func anEmptyRingTakesTheLargestFrame() throws {
        var ring = RendezvousRing(capacity: 4096)
        let smallPlaced = ring.place(100, head: 0)
        let small = try #require(smallPlaced)
        let freed = ring.trim(start: small, to: 100)
        let wholePlaced = ring.place(4096, head: freed)
        let whole = try #require(wholePlaced)
        #expect(ring.offset(whole) == 0)
        // Nothing else fits while it is in use.
        let outcome3 = ring.place(64, head: freed)
        #expect(outcome3 == nil)
    }

    /// A reservation larger than what was sent keeps only what was sent.
    @Test func trimGivesBackWhatWasNotSent() throws {
        var ring = RendezvousRing(capacity: 4096)
        let firstPlaced = ring.place(4000, head: 0)
        let first = try #require(firstPlaced)
        #expect(ring.trim(start: first, to: 1000) == 1024)
        let secondPlaced = ring.place(3000, head: 0)
        #expect(secondPlaced == 1024)
    }

    /// A reservation never sent leaves the ring as it was, even one that skipped to the next
    /// lap: once everything sent is freed, the largest frame fits again.
    @Test func anAbandonedReservationLeavesNoGap() throws {
        var ring = RendezvousRing(capacity: 4096)
        let firstPlaced = ring.place(2048, head: 0)
        let secondPlaced = ring.place(1024, head: 0)
        #expect(firstPlaced == 0)
        #expect(secondPlaced == 2048)
        // Skips to the next lap (3072 + 1152 would cross the end), then is abandoned.
        let skippedPlaced = ring.place(1152, head: 2048)
        #expect(skippedPlaced == 4096)
        ring.unplaceLast()
        #expect(ring.tail == 3072)
        // Both sent frames freed: the whole region is free.
        let wholePlaced = ring.place(4096, head: 3072)
        #expect(wholePlaced != nil)
    }

    /// The receiving side: READs complete in order, frames are freed in order, and the queue
    /// holds at most `maxRendezvousInFlight`.
    @Test func pendingReadsCompleteAndFreeInOrder() throws {
        var reads = PendingReads(regionBytes: 64 * 1024)
        defer { reads.deallocate() }
        #expect(reads.isEmpty)
        for token in 1...UInt64(VerbsConfiguration.maxRendezvousInFlight) {
            let outcome7 = reads.add(length: 1000, token: token)
            #expect(outcome7 != nil)
        }
        let outcome8 = reads.add(length: 1000, token: 99)
        #expect(outcome8 == nil)
        #expect(!reads.frontIsRead)
        let outcome9 = reads.complete()
        #expect(outcome9?.token == 1)
        let outcome10 = reads.complete()
        #expect(outcome10?.token == 2)
        #expect(reads.frontIsRead)
        #expect(reads.frontRead.token == 1)
        reads.freeFront()
        #expect(reads.frontRead.token == 2)
        reads.freeFront()
        // The third is still being read: nothing more to free.
        #expect(!reads.frontIsRead)
        reads.freeFront()
        #expect(reads.frontRead.token == 3)
        let outcome11 = reads.add(length: 1000, token: 9)
        #expect(outcome11?.token == 9)
    }

    /// A frame read waits until the region has room for it.
    @Test func pendingReadsWaitForRoom() throws {
        var reads = PendingReads(regionBytes: 4096)
        defer { reads.deallocate() }
        let outcome12 = reads.add(length: 3000, token: 1)
        #expect(outcome12 != nil)
        let outcome13 = reads.add(length: 2000, token: 2)
        #expect(outcome13 == nil)
        _ = reads.complete()
        reads.freeFront()
        #expect(reads.isEmpty)
        let outcome14 = reads.add(length: 2000, token: 2)
        #expect(outcome14?.token == 2)
    }
}
