import CanaryCore
import Foundation

/// canaryd's foreground mode: one ingest session on standard input, alerts on standard output as
/// they are decided, protocol replies on standard error.
public struct StandardInputIngest {
    public let configuration: CanaryConfiguration

    public init(configuration: CanaryConfiguration) {
        self.configuration = configuration
    }

    /// Reads until end of input; returns the session's counts.
    public func run() -> (accepted: Int, rejected: Int) {
        let alerts = BufferedWriter(fd: 1, capacity: 0)
        let replies = BufferedWriter(fd: 2, capacity: 0)
        var engine = CanaryEngine(configuration: configuration.engine)
        var sink = LineSink(writer: alerts)
        let now = Date().timeIntervalSince1970
        var session = IngestSession(zones: configuration.engine.zones,
                                    latestAccepted: now + configuration.engine.maxFutureSeconds,
                                    earliestAccepted: now - configuration.engine.maxPastSeconds,
                                    limits: configuration.engine.valueLimits)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(0, buffer.baseAddress, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            session.receive(UnsafeBufferPointer(rebasing: buffer[0..<n]),
                            record: { engine.ingest($0, into: &sink) },
                            reply: { replies.write($0 + "\n") },
                            zone: { engine.assignZone($1, to: $0) })
        }
        session.finish(record: { engine.ingest($0, into: &sink) }, reply: { replies.write($0 + "\n") },
                       zone: { engine.assignZone($1, to: $0) })
        // Close what the wall clock says is over; days still running stay open, as in the service.
        engine.advance(to: Date().timeIntervalSince1970, into: &sink)
        return (session.accepted, session.rejected)
    }
}

/// Writes each alert as one JSON line as soon as it is decided.
struct LineSink: EngineSink {
    let writer: BufferedWriter
    mutating func emit(_ alert: Alert) {
        writer.write(AlertJSON.encode(alert) + "\n")
    }
}
