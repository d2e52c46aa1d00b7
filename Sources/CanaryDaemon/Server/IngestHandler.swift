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
    private var inFlight = 0
    private var readPending = false
    private var inputClosed = false
    private var authorized = false
    private var finished = false
    private var replies: ByteBuffer?
    private var late = 0
    /// The session's mark at each batch in flight (oldest first), the mark all evaluated rows reach, and the last acknowledged.
    private var marks: [ProgressMark] = []
    private var evaluated = ProgressMark()
    private var acknowledged = ProgressMark()
    private var progressCommitting = false
    private var progressTimer: RepeatedTask?
    /// True while the session is parsing (it must not be read then): batches cut mid-parse keep the previous mark.
    private var parsing = false
    private var lastMark = ProgressMark()
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
                                admit: { consent.allows($0, .monitor, at: clock()) })
    }

    func channelActive(context ctx: ChannelHandlerContext) {
        self.context.connections.opened()
        let loopBound = NIOLoopBound((self, ctx), eventLoop: ctx.eventLoop)
        PeerCheck.credentials(of: ctx.channel).whenComplete { result in
            let (handler, ctx) = loopBound.value
            handler.peerChecked(result, ctx)
        }
        ctx.fireChannelActive()
    }

    func channelInactive(context ctx: ChannelHandlerContext) {
        progressTimer?.cancel()
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
        finished = true
        var buffer = ctx.channel.allocator.buffer(capacity: 32)
        buffer.writeString("ERR 0 unauthorized\n")
        let loopBound = NIOLoopBound(ctx, eventLoop: ctx.eventLoop)
        ctx.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in loopBound.value.close(promise: nil) }
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
        let buffer = unwrapInboundIn(data)
        let now = context.clock()
        session.updateLatestAccepted(now + context.settings.engine.maxFutureSeconds)
        session.updateEarliestAccepted(now - context.settings.engine.maxPastSeconds)
        session.refreshAdmission(version: context.consent.version)
        parsing = true
        defer { parsing = false }
        buffer.withUnsafeReadableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            session.receive(bytes, record: { batch.append($0); if batch.count >= Self.batchSize { submit(ctx) } },
                            reply: { reply($0, ctx) }, zone: { subject, zone in assign(zone, subject, ctx) })
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
            session.finishInput(record: { batch.append($0) }, reply: { reply($0, ctx) },
                                zone: { subject, zone in assign(zone, subject, ctx) })
            parsing = false
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
        inFlight += 1
        // Conservative: a batch cut while a read is being parsed claims no more than the last known mark.
        if !parsing { lastMark = session.mark }
        marks.append(lastMark)
        let loopBound = NIOLoopBound((self, ctx), eventLoop: ctx.eventLoop)
        context.engine.submit(records) { late in
            loopBound.eventLoop.execute {
                let (handler, ctx) = loopBound.value
                handler.batchDone(ctx, late: late)
            }
        }
    }

    /// A directive assigned a subject's zone: rows before it go first, then the assignment.
    private func assign(_ zone: TimeZone, _ subject: String, _ ctx: ChannelHandlerContext) {
        submit(ctx)
        context.engine.assignZone(zone, to: subject)
    }

    private func batchDone(_ ctx: ChannelHandlerContext, late: Int) {
        inFlight -= 1
        self.late += late
        if !marks.isEmpty { evaluated = marks.removeFirst() }
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
            reply(session.okLine(late: late), ctx)
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
