import CanaryCore
import Foundation
import Logging
import NIOCore

/// One ingest connection on its event loop: the shell around `IngestConnection`, the connection's
/// logic as a state machine. It turns the channel's events into the machine's and executes the actions
/// the machine returns: rows to the engine in batches, replies (`ERR ...`, `NOTICE ...`, `PROGRESS ...`,
/// the final `OK ...`) on the same connection, reads, commits, timers, the journal.
///
/// Backpressure: at most `maxInFlight` batches per connection wait for the engine; while they do,
/// the handler stops reading, so a fast client is slowed by the kernel's socket buffers instead of
/// filling memory, and a slow or stalled client holds nothing but its own connection.
final class IngestHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine: IngestConnection
    private let context: ServerContext
    private var idleTimer: Scheduled<Void>?
    private var progressTimer: RepeatedTask?
    static let batchSize = 4096
    static let maxInFlight = 4

    init(context: ServerContext) {
        self.context = context
        let settings = context.settings
        let consent = context.consent
        let clock = context.clock
        let session = IngestSession(zones: settings.engine.zones,
                                    latestAccepted: context.clock() + settings.engine.maxFutureSeconds,
                                    earliestAccepted: context.clock() - settings.engine.maxPastSeconds,
                                    limits: settings.engine.valueLimits,
                                    maxLineBytes: settings.daemon.maxLineBytes,
                                    maxSubjects: settings.daemon.maxSubjectsPerConnection,
                                    admit: { consent.allows($0, .monitor, at: clock()) })
        machine = IngestConnection(session: session,
                                   settings: .init(maxFutureSeconds: settings.engine.maxFutureSeconds,
                                                   maxPastSeconds: settings.engine.maxPastSeconds,
                                                   durable: context.committer != nil,
                                                   idleTimeoutSeconds: settings.daemon.idleTimeoutSeconds,
                                                   batchSize: Self.batchSize, maxInFlight: Self.maxInFlight),
                                   now: Self.monotonic())
    }

    /// Seconds on the monotonic clock the event loop schedules by.
    private static func monotonic() -> Double { Double(NIODeadline.now().uptimeNanoseconds) / 1e9 }

    func channelActive(context ctx: ChannelHandlerContext) {
        perform(machine.opened(open: self.context.connections.opened(), limit: self.context.settings.daemon.maxConnections), ctx)
        if machine.finished {
            context.metrics.connectionRefused(limit: true)
        } else {
            scheduleIdleCheck(at: machine.lastActivity + (self.context.settings.daemon.idleTimeoutSeconds ?? 0), ctx)
            let loopBound = NIOLoopBound((self, ctx), eventLoop: ctx.eventLoop)
            PeerCheck.credentials(of: ctx.channel).whenComplete { result in
                let (handler, ctx) = loopBound.value
                handler.peerChecked(result, ctx)
            }
        }
        ctx.fireChannelActive()
    }

    func channelInactive(context ctx: ChannelHandlerContext) {
        progressTimer?.cancel()
        idleTimer?.cancel()
        recordTally()
        self.context.connections.closed()
        ctx.fireChannelInactive()
    }

    private func peerChecked(_ result: Result<PeerCredentials, any Error>, _ ctx: ChannelHandlerContext) {
        switch result {
        case .success(let cred) where context.policy().allows(uid: cred.uid, gid: cred.gid):
            context.metrics.connectionOpened()
            startProgress(ctx)
            perform(machine.peerChecked(allowed: true), ctx)
        case .success(let cred):
            context.metrics.connectionRefused(limit: false)
            context.refused(pid: cred.pid, uid: cred.uid, gid: cred.gid)
            perform(machine.peerChecked(allowed: false), ctx)
        case .failure:
            context.metrics.connectionRefused(limit: false)
            context.refused(pid: -1, uid: .max, gid: .max)
            perform(machine.peerChecked(allowed: false), ctx)
        }
    }

    // Reads are requested explicitly (autoRead is off).
    func read(context ctx: ChannelHandlerContext) {
        if machine.shouldRead(writable: ctx.channel.isWritable) { ctx.read() }
    }

    func channelRead(context ctx: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let actions = buffer.withUnsafeReadableBytes { raw in
            machine.received(raw.bindMemory(to: UInt8.self), now: context.clock(), monotonic: Self.monotonic(),
                             admissionVersion: context.consent.version)
        }
        perform(actions, ctx)
    }

    func channelReadComplete(context ctx: ChannelHandlerContext) {
        perform(machine.readComplete(writable: ctx.channel.isWritable), ctx)
        recordTally()
        ctx.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context ctx: ChannelHandlerContext) {
        perform(machine.writabilityChanged(writable: ctx.channel.isWritable), ctx)
        ctx.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context ctx: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            perform(machine.inputEnded(), ctx)
        } else {
            ctx.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context ctx: ChannelHandlerContext, error: any Error) {
        ctx.close(promise: nil)
    }

    /// Executes the machine's actions, in order.
    private func perform(_ actions: [IngestConnection.Action], _ ctx: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .submit(let records):
                let loopBound = NIOLoopBound((self, ctx), eventLoop: ctx.eventLoop)
                context.engine.submit(records) { outcome in
                    loopBound.eventLoop.execute {
                        let (handler, ctx) = loopBound.value
                        handler.perform(handler.machine.batchEvaluated(outcome, monotonic: Self.monotonic(),
                                                                       writable: ctx.channel.isWritable), ctx)
                        handler.recordTally()
                    }
                }
            case .assignZone(let zone, let subject):
                context.engine.assignZone(zone, to: subject)
            case .write(let lines):
                ctx.writeAndFlush(wrapOutboundOut(buffer(lines, ctx)), promise: nil)
            case .read:
                ctx.read()
            case .commit(let commit):
                if commit == .final { progressTimer?.cancel() }
                guard let committer = context.committer else {
                    perform(machine.committed(commit, ok: true), ctx)
                    continue
                }
                let loopBound = NIOLoopBound((self, ctx), eventLoop: ctx.eventLoop)
                committer.commit { ok in
                    loopBound.eventLoop.execute {
                        let (handler, ctx) = loopBound.value
                        handler.perform(handler.machine.committed(commit, ok: ok), ctx)
                    }
                }
            case .close(let lines):
                progressTimer?.cancel()
                idleTimer?.cancel()
                let loopBound = NIOLoopBound(ctx, eventLoop: ctx.eventLoop)
                ctx.writeAndFlush(wrapOutboundOut(buffer(lines, ctx))).whenComplete { _ in loopBound.value.close(promise: nil) }
            case .limitReached(let key, let detail):
                context.limitReached(key, detail)
            case .lateRows(let line):
                context.lateRowsArrived(line: line)
            }
        }
    }

    /// The connection's counts since the last call, to the operator's metrics.
    private func recordTally() {
        let tally = machine.takeTally()
        if !tally.isEmpty { context.metrics.record(tally) }
    }

    private func buffer(_ lines: [String], _ ctx: ChannelHandlerContext) -> ByteBuffer {
        var buffer = ctx.channel.allocator.buffer(capacity: lines.reduce(0) { $0 + $1.utf8.count + 1 })
        for line in lines {
            buffer.writeString(line)
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        return buffer
    }

    /// `daemon.idle_timeout`: checked when it could have passed since the last activity.
    private func scheduleIdleCheck(at instant: Double, _ ctx: ChannelHandlerContext) {
        guard context.settings.daemon.idleTimeoutSeconds != nil else { return }
        let loopBound = NIOLoopBound((self, ctx), eventLoop: ctx.eventLoop)
        idleTimer = ctx.eventLoop.scheduleTask(deadline: .uptimeNanoseconds(UInt64(max(0, instant) * 1e9))) {
            let (handler, ctx) = loopBound.value
            let (actions, next) = handler.machine.idleCheck(monotonic: Self.monotonic())
            handler.perform(actions, ctx)
            if let next { handler.scheduleIdleCheck(at: next, ctx) }
        }
    }

    private func startProgress(_ ctx: ChannelHandlerContext) {
        guard let interval = context.settings.daemon.progressIntervalSeconds, context.committer != nil else { return }
        let every = TimeAmount.milliseconds(Int64(interval * 1000))
        let loopBound = NIOLoopBound((self, ctx), eventLoop: ctx.eventLoop)
        progressTimer = ctx.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in
            let (handler, ctx) = loopBound.value
            handler.perform(handler.machine.progressTick(), ctx)
        }
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
