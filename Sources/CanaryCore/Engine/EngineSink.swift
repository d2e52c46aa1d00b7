/// Receives the engine's decisions. The core calls it; the shell decides what to do with them
/// (print, store, route to journald or webhooks).
public protocol EngineSink {
    mutating func emit(_ alert: Alert)
    /// Called for every evaluated value when `wantsObservations` is true (backtesting output).
    mutating func observe(_ observation: Observation)
    var wantsObservations: Bool { get }
}

extension EngineSink {
    public mutating func observe(_ observation: Observation) {}
    public var wantsObservations: Bool { false }
}

/// A sink that keeps everything in memory; for tests and small replays.
public struct CollectingSink: EngineSink {
    public var alerts: [Alert] = []
    public var observations: [Observation] = []
    public var wantsObservations: Bool

    public init(wantsObservations: Bool = false) {
        self.wantsObservations = wantsObservations
    }

    public mutating func emit(_ alert: Alert) { alerts.append(alert) }
    public mutating func observe(_ observation: Observation) { observations.append(observation) }
}
