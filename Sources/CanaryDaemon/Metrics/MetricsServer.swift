import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves the Prometheus exposition over HTTP on a listening socket systemd passed in
/// (`canaryd-metrics.socket`, named `metrics`), so canaryd itself opens no network socket: `GET
/// /metrics` answers the text format, anything else 404 or 405. One request per connection, closed
/// after the answer; a connection that sends no complete request within 10 s is closed.
final class MetricsServer: @unchecked Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let exposition: @Sendable () async -> String
    private var channel: (any Channel)?

    init(group: MultiThreadedEventLoopGroup, exposition: @escaping @Sendable () async -> String) {
        self.group = group
        self.exposition = exposition
    }

    /// Starts answering on the inherited listening socket `fd`.
    func start(fd: Int32) async throws {
        let exposition = self.exposition
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandlers([IdleStateHandler(readTimeout: .seconds(10)),
                                                                     MetricsHTTPHandler(exposition: exposition)])
                }
            }
            .withBoundSocket(fd).get()
    }

    func stop() async {
        try? await channel?.close().get()
    }
}

/// One HTTP connection of the metrics endpoint.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let exposition: @Sendable () async -> String
    private var head: HTTPRequestHead?
    private var answered = false

    init(exposition: @escaping @Sendable () async -> String) {
        self.exposition = exposition
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
        case .body:
            break
        case .end:
            guard let head, !answered else { return }
            self.head = nil
            answered = true
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            guard path == "/metrics" || path == "/" else {
                respond(context, head, status: .notFound, type: "text/plain; charset=utf-8", body: "not found: the metrics are at /metrics\n")
                return
            }
            guard head.method == .GET || head.method == .HEAD else {
                respond(context, head, status: .methodNotAllowed, type: "text/plain; charset=utf-8", body: "only GET\n", allow: true)
                return
            }
            let exposition = self.exposition
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.makeFutureWithTask { await exposition() }.whenSuccess { text in
                let (handler, context) = loopBound.value
                handler.respond(context, head, status: .ok, type: "text/plain; version=0.0.4; charset=utf-8", body: text)
            }
        }
    }

    /// A client that sent no complete request in time is closed.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, !answered {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, status: HTTPResponseStatus, type: String,
                         body: String, allow: Bool = false) {
        var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", "\(body.utf8.count)"), ("Connection", "close")])
        if allow { headers.add(name: "Allow", value: "GET, HEAD") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
            buffer.writeString(body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }
}
