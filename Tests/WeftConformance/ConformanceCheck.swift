/// Every check of the conformance suite, listed once: a transport's tests run
/// `@Test(arguments: ConformanceCheck.allCases)` and pick up new checks by themselves.
public enum ConformanceCheck: String, CaseIterable, Sendable, CustomStringConvertible {
    case orderingAndNoLoss, sizesUpToTheMaximum, manyConnections, concurrentSenders, backPressure, orderlyClose,
        malformedFrames

    public var description: String { rawValue }

    public func run(against subject: any ConformanceSubject) throws {
        switch self {
        case .orderingAndNoLoss: try ConformanceSuite.orderingAndNoLoss(subject)
        case .sizesUpToTheMaximum: try ConformanceSuite.sizesUpToTheMaximum(subject)
        case .manyConnections: try ConformanceSuite.manyConnections(subject)
        case .concurrentSenders: try ConformanceSuite.concurrentSenders(subject)
        case .backPressure: try ConformanceSuite.backPressure(subject)
        case .orderlyClose: try ConformanceSuite.orderlyClose(subject)
        case .malformedFrames: try ConformanceSuite.malformedFrames(subject)
        }
    }
}
