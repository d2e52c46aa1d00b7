import CanaryCore
import Foundation

/// canaryd's foreground mode: one ingest session on standard input, alerts on standard output as
/// they are decided, protocol replies on standard error. Consent applies as in the service: rows of
/// a subject without an active `monitor` grant in the ledger are refused.
public struct StandardInputIngest {
    public let configuration: CanaryConfiguration
    /// Who may be monitored (`ledger(for:)` reads the one the service keeps).
    public let consent: ConsentLedger

    public init(configuration: CanaryConfiguration, consent: ConsentLedger) {
        self.configuration = configuration
        self.consent = consent
    }

    /// The consent ledger the service would use: the one in the state database (`state.path`), read as it
    /// is; a database that does not exist yet is created by the service's first start with the
    /// configuration's `[[consent.grant]]` seeds, so those count then (and nothing is written here).
    public static func ledger(for configuration: CanaryConfiguration, now: Double = Date().timeIntervalSince1970) throws -> ConsentLedger {
        let path = configuration.daemon.statePath
        guard FileManager.default.fileExists(atPath: path) else {
            return ConsentLedger(configuration.daemon.consentSeeds.flatMap { seed in
                seed.scopes.map { ConsentGrant(subject: seed.subject, scope: $0, reference: seed.reference,
                                               recordedBy: "configuration", grantedAt: now, expiresAt: seed.expiresAt) }
            })
        }
        guard access(path, R_OK) == 0 else {
            throw DaemonError("cannot read the consent ledger in \(path) (state.path): \(String(cString: strerror(errno))); run as canaryd's user (or root)")
        }
        return try StateStore(path: path).loadConsent()
    }

    /// Reads until end of input; returns the session's counts.
    public func run() -> (accepted: Int, rejected: Int) {
        let alerts = BufferedWriter(fd: 1, capacity: 0)
        let replies = BufferedWriter(fd: 2, capacity: 0)
        var engine = CanaryEngine(configuration: configuration.engine)
        var sink = LineSink(writer: alerts)
        let consent = self.consent
        let now = Date().timeIntervalSince1970
        var session = IngestSession(zones: configuration.engine.zones,
                                    latestAccepted: now + configuration.engine.maxFutureSeconds,
                                    earliestAccepted: now - configuration.engine.maxPastSeconds,
                                    limits: configuration.engine.valueLimits,
                                    maxLineBytes: configuration.daemon.maxLineBytes,
                                    maxSubjects: configuration.daemon.maxSubjectsPerConnection,
                                    admit: { consent.allows($0, .monitor, at: Date().timeIntervalSince1970) })
        var refused = 0
        func ingest(_ record: Record, _ line: Int) {
            if let why = engine.ingest(record, into: &sink) {
                refused += 1
                replies.write(IngestSession.err(why.rowError(line: line)) + "\n")
            }
        }
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(0, buffer.baseAddress, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            engine.arrival = Date().timeIntervalSince1970
            session.receive(UnsafeBufferPointer(rebasing: buffer[0..<n]),
                            record: ingest,
                            reply: { replies.write($0 + "\n") },
                            zone: { engine.assignZone($1, to: $0) })
        }
        session.finishInput(record: ingest, reply: { replies.write($0 + "\n") }, zone: { engine.assignZone($1, to: $0) })
        session.engineRefused(refused)
        replies.write(session.okLine(late: engine.lateRows, duplicate: engine.duplicateRows) + "\n")
        // The input has ended, and nothing is saved: every day that ended at least `close_delay` ago by the
        // wall clock is closed; the day still running is not evaluated.
        engine.advance(to: Date().timeIntervalSince1970, inputEnded: true, into: &sink)
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
