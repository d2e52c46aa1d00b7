import CanaryCore
import Foundation
import Logging
import NIOCore

/// One ingest connection on its event loop: bytes are split and parsed here, records go to the
/// engine in batches, replies (`ERR ...`, final `OK ...`) go back on the same connection. A
/// connection that stays open gets `PROGRESS line=L accepted=N rejected=M` every
/// `daemon.progress_interval` while it has rows evaluated since the last one, each sent only after
/// their effects are committed, so a long-lived client knows what it need never resend.
///
/// Backpressure: at most `maxInFlight` batches per connection wait for the engine; while they do,
/// the handler stops reading, so a fast client is slowed by the kernel's socket buffers instead of
/// filling memory, and a slow or stalled client holds nothing but its own connection.
final class IngestHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var session: IngestSession
    private let context: ServerContext
    private var batch: [Record] = []
    /// The line of each record in `batch`, and of each batch in flight: a row the engine refuses is named by its line.
    private var batchLines: [Int] = []
    private var linesInFlight: [[Int]] = []
    /// Rows the engine refused so far, and the bounds already journaled for this connection (once each).
    private var engineRefused = 0
    private var journaledLimits: Set<String> = []
    /// When the client last sent anything (or the engine last finished a batch of it), for `daemon.idle_timeout`.
    private var lastActivity = NIODeadline.now()
    private var idleTimer: Scheduled<Void>?
    private var inFlight = 0
    private var readPending = false
    private var inputClosed = false
    private var authorized = false
    private var finished = false
    private var replies: ByteBuffer?
    private var late = 0
    private var duplicate = 0
    /// Whether this connection was told about its first late row.
    private var lateNoticed = false
    /// The session's mark at each batch in flight (oldest first) with the engine refusals counted when it
    /// was taken, the mark all evaluated rows reach, and the last acknowledged.
    private var marks: [(mark: ProgressMark, refused: Int)] = []
    private var evaluated = ProgressMark()
    private var acknowledged = ProgressMark()
    private var progressCommitting = false
    private var progressTimer: RepeatedTask?
    /// True while the session is parsing (it must not be read then): batches cut mid-parse keep the previous mark.
    private var parsing = false
    private var lastMark = ProgressMark()
    private var lastMarkRefused = 0
    static let batchSize = 4096
    static let maxInFlight = 4

    init(context: ServerContext) {
        self.context = context
        let settings = context.settings
        let consent = context.consent
        let clock = context.clock
        session = IngestSession(zones: settings.engine.zones,
                                latestAccepted: context.clock() + settings.engine.maxFutureSeconds,
                                earliestAccepted: context.clock() - settings.engine.maxPastSeconds,
                                limits: settings.engine.valueLimits,
                                maxLineBytes: settings.daemon.maxLineBytes,
                                maxSubjects: settings.daemon.maxSubjectsPerConnection,
                                admit: { consent.allows($0, .monitor, at: clock()) })
    }

    func channelActive(context ctx: ChannelHandlerContext) {
        let open = self.context.connections.opened()
        let limit = self.context.settings.daemon.maxConnections
        guard open <= limit else {
            self.context.limitReached("daemon.max_connections", "\(limit) ingest connections were open; one more was refused")
            close(ctx, with: "ERR 0 too-many-connections: canaryd serves at most \(limit) connections at once (daemon.max_connections); try again later")
            ctx.fireChannelActive()
            return
        }
        startIdleTimer(ctx)
        let loopBound = NIOLoopBound((self, ctx), eventLoop: ctx.eventLoop)
        PeerCheck.credentials(of: ctx.channel).whenComplete { result in
            let (handler, ctx) = loopBound.value
            handler.peerChecked(result, ctx)
        }
        ctx.fireChannelActive()
    }

    func channelInactive(context ctx: ChannelHandlerContext) {
        progressTimer?.cancel()
        idleTimer?.cancel()
        self.context.connections.closed()
        ctx.fireChannelInactive()
    }

    private func peerChecked(_ result: Result<PeerCredentials, any Error>, _ ctx: ChannelHandlerContext) {
        switch result {
        case .success(let cred) where context.policy().allows(uid: cred.uid, gid: cred.gid):
            authorized = true
            readPending = false
            startProgress(ctx)
            ctx.read()
        case .success(let cred):
            context.refused(pid: cred.pid, uid: cred.uid, gid: cred.gid)
            refuse(ctx)
        case .failure:
            context.refused(pid: -1, uid: .max, gid: .max)
            refuse(ctx)
        }
    }

    private func refuse(_ ctx: ChannelHandlerContext) {
        close(ctx, with: "ERR 0 unauthorized")
    }

    /// One last reply (after any still buffered), then the connection is closed; nothing more is read or acknowledged.
    private func close(_ ctx: ChannelHandlerContext, with line: String) {
        finished = true
        progressTimer?.cancel()
        idleTimer?.cancel()
        reply(line, ctx)
        let buffer = replies.take() ?? ctx.channel.allocator.buffer(capacity: 0)
        let loopBound = NIOLoopBound(ctx, eventLoop: ctx.eventLoop)
        ctx.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    /// `daemon.idle_timeout`: checked when it could have passed since the last activity. Waiting for the
    /// engine is canaryd's doing, not the client's, and a client that half-closed waits for its `OK`.
    private func startIdleTimer(_ ctx: ChannelHandlerContext) {
        guard let seconds = context.settings.daemon.idleTimeoutSeconds else { return }
        let timeout = TimeAmount.milliseconds(Int64(seconds * 1000))
        let loopBound = NIOLoopBound((self, ctx), eventLoop: ctx.eventLoop)
        idleTimer = ctx.eventLoop.scheduleTask(deadline: lastActivity + timeout) {
            let (handler, ctx) = loopBound.value
            handler.idleCheck(ctx, timeout: timeout, seconds: seconds)
        }
    }

    private func idleCheck(_ ctx: ChannelHandlerContext, timeout: TimeAmount, seconds: Double) {
        guard !finished, !inputClosed else { return }
        if inFlight > 0 { lastActivity = .now() }
        guard NIODeadline.now() >= lastActivity + timeout else {
            startIdleTimer(ctx)
            return
        }
        if journaledLimits.insert("daemon.idle_timeout").inserted {
            context.limitReached("daemon.idle_timeout", "a connection sent nothing for \(Int(seconds)) s and was closed")
        }
        flushReplies(ctx)
        close(ctx, with: "ERR 0 idle-timeout: nothing received for \(Int(seconds)) s (daemon.idle_timeout); lines not acknowledged by PROGRESS must be sent again")
    }

    /// Reads go on only while the engine keeps up with this connection and the client reads its replies.
    private func mayRead(_ ctx: ChannelHandlerContext) -> Bool {
        authorized && inFlight < Self.maxInFlight && !finished && !inputClosed && ctx.channel.isWritable
    }

    // Reads are requested explicitly (autoRead is off).
    func read(context ctx: ChannelHandlerContext) {
        if mayRead(ctx) {
            ctx.read()
        } else {
            readPending = true
        }
    }

    func channelRead(context ctx: ChannelHandlerContext, data: NIOAny) {
        guard authorized, !finished else { return }
        lastActivity = .now()
        let buffer = unwrapInboundIn(data)
        let now = context.clock()
        session.updateLatestAccepted(now + context.settings.engine.maxFutureSeconds)
        session.updateEarliestAccepted(now - context.settings.engine.maxPastSeconds)
        session.refreshAdmission(version: context.consent.version)
        parsing = true
        defer { parsing = false }
        buffer.withUnsafeReadableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            session.receive(bytes, record: { r, line in
                                batch.append(r)
                                batchLines.append(line)
                                if batch.count >= Self.batchSize { submit(ctx) }
                            },
                            reply: { reply($0, ctx) }, zone: { subject, zone in assign(zone, subject, ctx) })
        }
        noteSubjectLimit()
    }

    private func noteSubjectLimit() {
        if session.subjectLimitReached, journaledLimits.insert("daemon.max_subjects_per_connection").inserted {
            context.limitReached("daemon.max_subjects_per_connection",
                                 "a connection sent rows of more than \(context.settings.daemon.maxSubjectsPerConnection) subjects; the rows of the others were refused")
        }
    }

    func channelReadComplete(context ctx: ChannelHandlerContext) {
        submit(ctx)
        flushReplies(ctx)
        ctx.fireChannelReadComplete()
        // autoRead is off: ask for more only while the engine and the client keep up.
        if !inputClosed && !finished {
            if mayRead(ctx) { ctx.read() } else { readPending = true }
        }
    }

    func channelWritabilityChanged(context ctx: ChannelHandlerContext) {
        if readPending && mayRead(ctx) {
            readPending = false
            ctx.read()
        }
        ctx.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context ctx: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            inputClosed = true
            guard authorized, !finished else { return }
            parsing = true
            session.finishInput(record: { r, line in batch.append(r); batchLines.append(line) }, reply: { reply($0, ctx) },
                                zone: { subject, zone in assign(zone, subject, ctx) })
            parsing = false
            noteSubjectLimit()
            flushReplies(ctx)
            submit(ctx)
            finishIfDone(ctx)
        } else {
            ctx.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context ctx: ChannelHandlerContext, error: any Error) {
        ctx.close(promise: nil)
    }

    private func submit(_ ctx: ChannelHandlerContext) {
        guard !batch.isEmpty else { return }
        let records = batch
        batch.removeAll(keepingCapacity: true)
        linesInFlight.append(batchLines)
        batchLines.removeAll(keepingCapacity: true)
        inFlight += 1
        // Conservative: a batch cut while a read is being parsed claims no more than the last known mark.
        if !parsing {
            lastMark = session.mark
            lastMarkRefused = engineRefused
        }
        marks.append((lastMark, lastMarkRefused))
        let loopBound = NIOLoopBound((self, ctx), eventLoop: ctx.eventLoop)
        context.engine.submit(records) { outcome in
            loopBound.eventLoop.execute {
                let (handler, ctx) = loopBound.value
                handler.batchDone(ctx, outcome)
            }
        }
    }

    /// A directive assigned a subject's zone: rows before it go first, then the assignment.
    private func assign(_ zone: TimeZone, _ subject: String, _ ctx: ChannelHandlerContext) {
        submit(ctx)
        context.engine.assignZone(zone, to: subject)
    }

    private func batchDone(_ ctx: ChannelHandlerContext, _ outcome: BatchOutcome) {
        inFlight -= 1
        lastActivity = .now()
        self.late += outcome.late
        self.duplicate += outcome.duplicate
        let lines = linesInFlight.isEmpty ? [] : linesInFlight.removeFirst()
        if let first = outcome.firstLate, !lateNoticed {
            // The client hears at once, not only in the final OK, that rows came too late to be evaluated.
            lateNoticed = true
            let line = first.index < lines.count ? lines[first.index] : 0
            reply("NOTICE \(line) late: this row's period was already evaluated; rows like it are counted (late=L in the final OK), "
                  + "not evaluated; the subject's oldest period still open is \(first.openSince)", ctx)
            flushReplies(ctx)
            context.lateRowsArrived(line: line)
        }
        if !outcome.refused.isEmpty {
            // The engine's bounds: the rows were counted as accepted when parsed; they are rejected, by line.
            for r in outcome.refused {
                reply(IngestSession.err(r.refusal.rowError(line: r.index < lines.count ? lines[r.index] : 0)), ctx)
                if journaledLimits.insert(r.refusal.key).inserted {
                    context.limitReached(r.refusal.key, "rows naming more than the limit were refused")
                }
            }
            engineRefused += outcome.refused.count
            session.engineRefused(outcome.refused.count)
            flushReplies(ctx)
        }
        if !marks.isEmpty {
            // Refusals after the mark was taken are not in its counts yet.
            let (mark, refusedThen) = marks.removeFirst()
            let since = engineRefused - refusedThen
            evaluated = ProgressMark(line: mark.line, accepted: mark.accepted - since, rejected: mark.rejected + since)
        }
        if readPending && mayRead(ctx) {
            readPending = false
            ctx.read()
        }
        finishIfDone(ctx)
    }

    /// Once the client has half-closed and every batch is evaluated: the final reply, then close.
    private func finishIfDone(_ ctx: ChannelHandlerContext) {
        guard inputClosed, inFlight == 0, !finished else { return }
        finished = true
        progressTimer?.cancel()
        // OK means durable: the rows' effects are committed before the client hears it.
        if let committer = context.committer {
            let loopBound = NIOLoopBound((self, ctx), eventLoop: ctx.eventLoop)
            committer.commit { ok in
                loopBound.eventLoop.execute {
                    let (handler, ctx) = loopBound.value
                    handler.acknowledge(ctx, committed: ok)
                }
            }
        } else {
            acknowledge(ctx, committed: true)
        }
    }

    private func acknowledge(_ ctx: ChannelHandlerContext, committed: Bool) {
        if committed {
            reply(session.okLine(late: late, duplicate: duplicate), ctx)
        } else {
            reply("ERR 0 not-committed: the rows were evaluated but could not be saved; send them again", ctx)
        }
        let buffer = replies.take() ?? ctx.channel.allocator.buffer(capacity: 0)
        let loopBound = NIOLoopBound(ctx, eventLoop: ctx.eventLoop)
        ctx.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    private func startProgress(_ ctx: ChannelHandlerContext) {
        guard let interval = context.settings.daemon.progressIntervalSeconds, context.committer != nil else { return }
        let every = TimeAmount.milliseconds(Int64(interval * 1000))
        let loopBound = NIOLoopBound((self, ctx), eventLoop: ctx.eventLoop)
        progressTimer = ctx.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in
            let (handler, ctx) = loopBound.value
            handler.progress(ctx)
        }
    }

    /// One progress tick: when rows were evaluated since the last acknowledgement, commit, then say so.
    private func progress(_ ctx: ChannelHandlerContext) {
        guard !finished, !progressCommitting, let committer = context.committer else { return }
        // With nothing in flight or waiting, every handled line counts (rejected lines and headers too).
        let mark = inFlight == 0 && batch.isEmpty ? session.mark : evaluated
        guard mark.line > acknowledged.line else { return }
        progressCommitting = true
        let loopBound = NIOLoopBound((self, ctx), eventLoop: ctx.eventLoop)
        committer.commit { ok in
            loopBound.eventLoop.execute {
                let (handler, ctx) = loopBound.value
                handler.progressCommitting = false
                guard ok, !handler.finished else { return }
                handler.acknowledged = mark
                handler.reply(mark.reply, ctx)
                handler.flushReplies(ctx)
            }
        }
    }

    private func reply(_ line: String, _ ctx: ChannelHandlerContext) {
        if replies == nil { replies = ctx.channel.allocator.buffer(capacity: 256) }
        replies!.writeString(line)
        replies!.writeInteger(UInt8(ascii: "\n"))
    }

    private func flushReplies(_ ctx: ChannelHandlerContext) {
        guard let buffer = replies.take(), buffer.readableBytes > 0 else { return }
        ctx.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}

extension Optional {
    /// Moves the wrapped value out, leaving nil.
    mutating func take() -> Wrapped? {
        defer { self = nil }
        return self
    }
}

/// SO_PEERCRED through NIO's socket option provider.
enum PeerCheck {
    static func credentials(of channel: any Channel) -> EventLoopFuture<PeerCredentials> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
        }
        return provider.unsafeGetSocketOption(level: .socket, name: NIOBSDSocket.Option(rawValue: 17 /* SO_PEERCRED */))
    }
}
