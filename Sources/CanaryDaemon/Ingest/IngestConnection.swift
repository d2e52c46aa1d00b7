import CanaryCore
import Foundation

/// One ingest connection's logic as a state machine, in the shape of async-http-client's connection
/// state machines: the channel handler (`IngestHandler`) feeds it events — bytes read, the input
/// closed, a batch evaluated, a progress tick, a commit done, an idle check — and executes the actions
/// it returns: submit rows to the engine, write replies, ask for more bytes, commit, close. It holds no
/// socket, timer or clock (time comes in with the events), so every rule of the protocol is tested
/// without a socket: batches of at most `batchSize` rows, at most `maxInFlight` of them waiting for
/// the engine (reading stops meanwhile), `PROGRESS` only after a commit, the first late row's
/// `NOTICE`, rows the engine refuses named by line, the final `OK` only once everything is committed.
struct IngestConnection {
    /// What the connection needs from the configuration.
    struct Settings {
        var maxFutureSeconds: Double
        var maxPastSeconds: Double
        /// Whether acknowledgements wait for commits (a state database is configured).
        var durable: Bool
        var idleTimeoutSeconds: Double?
        var batchSize = 4096
        var maxInFlight = 4
    }

    /// What the shell does next, in order.
    enum Action {
        /// Rows to the engine; its outcome comes back as `batchEvaluated`, in submission order.
        case submit([Record])
        /// A directive's zone, after the rows before it.
        case assignZone(TimeZone, subject: String)
        /// Reply lines to write (and flush) now.
        case write([String])
        /// Ask the socket for more bytes.
        case read
        /// Commit the engine's state; the result comes back as `committed`.
        case commit(Commit)
        /// Write these lines (after anything written before), then close; nothing more is read or acknowledged.
        case close(after: [String])
        /// A bound was reached (journaled once per connection and key).
        case limitReached(key: String, detail: String)
        /// The connection's first late row (journaled).
        case lateRows(line: Int)
    }

    enum Commit: Equatable {
        /// For a `PROGRESS` up to this mark.
        case progress(ProgressMark)
        /// For the final `OK`.
        case final
    }

    private let settings: Settings
    /// Moved out while it parses (`parse`), so its callbacks can change the rest of the machine in place.
    private var session: IngestSession?
    private var batch: [Record] = []
    /// The line of each record in `batch`, and of each batch in flight: a row the engine refuses is named by its line.
    private var batchLines: [Int] = []
    private var linesInFlight: [[Int]] = []
    /// The format of the rows in `batch`, and of each batch in flight: a batch holds one format (a
    /// stream with several sections is cut where the format changes), so the metrics count each by it.
    private var batchFormat: InputFormat?
    private var formatsInFlight: [InputFormat?] = []
    private var engineRefused = 0
    private var journaledLimits: Set<String> = []
    private(set) var lastActivity: Double
    private(set) var inFlight = 0
    private var readPending = false
    private(set) var inputClosed = false
    private(set) var authorized = false
    private(set) var finished = false
    private var replies: [String] = []
    private var late = 0
    private var duplicate = 0
    private var lateNoticed = false
    /// Counts since the last `takeTally`.
    private var tally = IngestTally()
    /// The session's mark at each batch in flight (oldest first) with the engine refusals counted when it
    /// was taken, the mark all evaluated rows reach, and the last acknowledged.
    private var marks: [(mark: ProgressMark, refused: Int)] = []
    private var evaluated = ProgressMark()
    private var acknowledged = ProgressMark()
    private var progressCommitting = false
    /// True while the session is parsing: batches cut mid-parse keep the previous mark.
    private var parsing = false
    private var lastMark = ProgressMark()
    private var lastMarkRefused = 0

    init(session: IngestSession, settings: Settings, now: Double) {
        self.session = session
        self.settings = settings
        lastActivity = now
    }

    // MARK: Events

    /// The connection was accepted with `open` connections open, `limit` allowed.
    mutating func opened(open: Int, limit: Int) -> [Action] {
        guard open > limit else { return [] }
        return [.limitReached(key: "daemon.max_connections", detail: "\(limit) ingest connections were open; one more was refused"),
                close(with: "ERR 0 too-many-connections: canaryd serves at most \(limit) connections at once (daemon.max_connections); try again later")]
    }

    /// The peer's credentials were checked against the allow-list.
    mutating func peerChecked(allowed: Bool) -> [Action] {
        guard !finished else { return [] }
        guard allowed else { return [close(with: "ERR 0 unauthorized")] }
        authorized = true
        readPending = false
        return [.read]
    }

    /// Bytes arrived. `now` is the wall clock (for the future and too-old limits), `admissionVersion` the
    /// consent ledger's version.
    mutating func received(_ bytes: UnsafeBufferPointer<UInt8>, now: Double, monotonic: Double, admissionVersion: Int) -> [Action] {
        guard authorized, !finished else { return [] }
        lastActivity = monotonic
        session!.updateLatestAccepted(now + settings.maxFutureSeconds)
        session!.updateEarliestAccepted(now - settings.maxPastSeconds)
        session!.refreshAdmission(version: admissionVersion)
        return parse { s, record, reply, zone in s.receive(bytes, record: record, reply: reply, zone: zone) }
    }

    /// Runs the session's parser with callbacks that batch rows (a full batch goes to the engine at once)
    /// and pass a directive's zone on after the rows before it. The session is moved out meanwhile: no
    /// copy of it and no intermediate list of the rows.
    private mutating func parse(_ body: (inout IngestSession, (Record, Int) -> Void, (String) -> Void, (String, TimeZone) -> Void) -> Void)
        -> [Action] {
        var actions: [Action] = []
        var s = session.take()!
        parsing = true
        body(&s,
             { r, line in
                 let format = r.format
                 if format != batchFormat {
                     submit(into: &actions)
                     batchFormat = format
                 }
                 batch.append(r)
                 batchLines.append(line)
                 if batch.count >= settings.batchSize { submit(into: &actions) }
             },
             { replies.append($0) },
             { subject, zone in
                 submit(into: &actions)
                 actions.append(.assignZone(zone, subject: subject))
             })
        parsing = false
        session = s
        noteSubjectLimit(into: &actions)
        return actions
    }

    /// The socket has no more bytes for now: what was read goes to the engine, replies go out, and more is
    /// read while the engine and the client keep up.
    mutating func readComplete(writable: Bool) -> [Action] {
        var actions: [Action] = []
        submit(into: &actions)
        flush(into: &actions)
        if !inputClosed && !finished {
            if mayRead(writable: writable) { actions.append(.read) } else { readPending = true }
        }
        return actions
    }

    /// The shell is asked to read: whether it may now (else it is remembered for later).
    mutating func shouldRead(writable: Bool) -> Bool {
        if mayRead(writable: writable) { return true }
        readPending = true
        return false
    }

    mutating func writabilityChanged(writable: Bool) -> [Action] {
        guard readPending && mayRead(writable: writable) else { return [] }
        readPending = false
        return [.read]
    }

    /// The client half-closed: its last line counts, and once every batch is evaluated and committed it hears `OK`.
    mutating func inputEnded() -> [Action] {
        inputClosed = true
        guard authorized, !finished else { return [] }
        var actions = parse { s, record, reply, zone in s.finishInput(record: record, reply: reply, zone: zone) }
        flush(into: &actions)
        submit(into: &actions)
        finishIfDone(into: &actions)
        return actions
    }

    /// The engine evaluated the oldest batch in flight.
    mutating func batchEvaluated(_ outcome: BatchOutcome, monotonic: Double, writable: Bool) -> [Action] {
        var actions: [Action] = []
        inFlight -= 1
        lastActivity = monotonic
        late += outcome.late
        duplicate += outcome.duplicate
        let lines = linesInFlight.isEmpty ? [] : linesInFlight.removeFirst()
        let format = formatsInFlight.isEmpty ? nil : formatsInFlight.removeFirst()
        tally.add(format: format, accepted: lines.count - outcome.refused.count, late: outcome.late, duplicate: outcome.duplicate)
        if let first = outcome.firstLate, !lateNoticed {
            // The client hears at once, not only in the final OK, that rows came too late to be evaluated.
            lateNoticed = true
            let line = first.index < lines.count ? lines[first.index] : 0
            replies.append("NOTICE \(line) late: this row's period was already evaluated; rows like it are counted (late=L in the final OK), "
                           + "not evaluated; the subject's oldest period still open is \(first.openSince)")
            flush(into: &actions)
            actions.append(.lateRows(line: line))
        }
        if !outcome.refused.isEmpty {
            // The engine's bounds: the rows were counted as accepted when parsed; they are rejected, by line.
            for r in outcome.refused {
                tally.rejected[r.refusal.rowError(line: 0).kind.rawValue, default: 0] += 1
                replies.append(IngestSession.err(r.refusal.rowError(line: r.index < lines.count ? lines[r.index] : 0)))
                if journaledLimits.insert(r.refusal.key).inserted {
                    actions.append(.limitReached(key: r.refusal.key, detail: "rows naming more than the limit were refused"))
                }
            }
            engineRefused += outcome.refused.count
            session!.engineRefused(outcome.refused.count)
            flush(into: &actions)
        }
        if !marks.isEmpty {
            // Refusals after the mark was taken are not in its counts yet.
            let (mark, refusedThen) = marks.removeFirst()
            let since = engineRefused - refusedThen
            evaluated = ProgressMark(line: mark.line, accepted: mark.accepted - since, rejected: mark.rejected + since)
        }
        if readPending && mayRead(writable: writable) {
            readPending = false
            actions.append(.read)
        }
        finishIfDone(into: &actions)
        return actions
    }

    /// A progress tick: when rows were evaluated since the last acknowledgement, commit (then say so).
    mutating func progressTick() -> [Action] {
        guard !finished, !progressCommitting, settings.durable else { return [] }
        // With nothing in flight or waiting, every handled line counts (rejected lines and headers too).
        let mark = inFlight == 0 && batch.isEmpty ? session!.mark : evaluated
        guard mark.line > acknowledged.line else { return [] }
        progressCommitting = true
        return [.commit(.progress(mark))]
    }

    /// A commit asked for by `.commit` is done.
    mutating func committed(_ commit: Commit, ok: Bool) -> [Action] {
        switch commit {
        case .progress(let mark):
            progressCommitting = false
            guard ok, !finished else { return [] }
            acknowledged = mark
            replies.append(mark.reply)
            var actions: [Action] = []
            flush(into: &actions)
            return actions
        case .final:
            return [acknowledge(committed: ok)]
        }
    }

    /// `daemon.idle_timeout`, checked when it could have passed: the connection is closed when the client
    /// sent nothing for that long, else the next check is due at the returned instant. Waiting for the
    /// engine is canaryd's doing, not the client's, and a client that half-closed waits for its `OK`.
    mutating func idleCheck(monotonic now: Double) -> (actions: [Action], nextCheck: Double?) {
        guard let seconds = settings.idleTimeoutSeconds, !finished, !inputClosed else { return ([], nil) }
        if inFlight > 0 { lastActivity = now }
        guard now >= lastActivity + seconds else { return ([], lastActivity + seconds) }
        var actions: [Action] = []
        if journaledLimits.insert("daemon.idle_timeout").inserted {
            actions.append(.limitReached(key: "daemon.idle_timeout", detail: "a connection sent nothing for \(Int(seconds)) s and was closed"))
        }
        flush(into: &actions)
        actions.append(close(with: "ERR 0 idle-timeout: nothing received for \(Int(seconds)) s (daemon.idle_timeout); lines not acknowledged by PROGRESS must be sent again"))
        return (actions, nil)
    }

    /// What the connection's rows came to since the last call (the operator's metrics).
    mutating func takeTally() -> IngestTally {
        var out = tally
        tally = IngestTally()
        guard session != nil else { return out }
        // Parse rejections since the last tally: of the section being read (the format its header named).
        out.rejectedFormat = session!.format
        for (reason, n) in session!.takeRejections() { out.rejected[reason, default: 0] += n }
        return out
    }

    // MARK: Internals

    private func mayRead(writable: Bool) -> Bool {
        authorized && inFlight < settings.maxInFlight && !finished && !inputClosed && writable
    }

    private mutating func submit(into actions: inout [Action]) {
        guard !batch.isEmpty else { return }
        actions.append(.submit(batch))
        batch.removeAll(keepingCapacity: true)
        linesInFlight.append(batchLines)
        formatsInFlight.append(batchFormat)
        batchLines.removeAll(keepingCapacity: true)
        inFlight += 1
        // Conservative: a batch cut while a read is being parsed claims no more than the last known mark.
        if !parsing {
            lastMark = session!.mark
            lastMarkRefused = engineRefused
        }
        marks.append((lastMark, lastMarkRefused))
    }

    private mutating func flush(into actions: inout [Action]) {
        guard !replies.isEmpty else { return }
        actions.append(.write(replies))
        replies.removeAll()
    }

    private mutating func noteSubjectLimit(into actions: inout [Action]) {
        if session!.subjectLimitReached, journaledLimits.insert("daemon.max_subjects_per_connection").inserted {
            actions.append(.limitReached(key: "daemon.max_subjects_per_connection",
                                         detail: "a connection sent rows of more than \(session!.maxSubjects) subjects; the rows of the others were refused"))
        }
    }

    /// Once the client has half-closed and every batch is evaluated: commit, then the final reply.
    private mutating func finishIfDone(into actions: inout [Action]) {
        guard inputClosed, inFlight == 0, !finished else { return }
        finished = true
        // OK means durable: the rows' effects are committed before the client hears it.
        actions.append(settings.durable ? .commit(.final) : acknowledge(committed: true))
    }

    private mutating func acknowledge(committed: Bool) -> Action {
        replies.append(committed ? session!.okLine(late: late, duplicate: duplicate)
                       : "ERR 0 not-committed: the rows were evaluated but could not be saved; send them again")
        defer { replies.removeAll() }
        return .close(after: replies)
    }

    /// One last reply (after any still buffered), then the connection is closed.
    private mutating func close(with line: String) -> Action {
        finished = true
        replies.append(line)
        defer { replies.removeAll() }
        return .close(after: replies)
    }
}

extension Optional {
    /// Moves the wrapped value out, leaving nil.
    mutating func take() -> Wrapped? {
        defer { self = nil }
        return self
    }
}
