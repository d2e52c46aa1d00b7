import Foundation
import Logging
import NIOCore
import NIOPosix

/// The Unix stream socket canaryd ingests from: adopted from systemd (socket activation) or bound
/// by canaryd itself, with a stale socket file removed only when nothing answers on it.
final class IngestServer: @unchecked Sendable {
    private let context: ServerContext
    private let group: MultiThreadedEventLoopGroup
    private var channel: (any Channel)?
    private(set) var activated = false
    private(set) var boundPath: String?

    init(context: ServerContext, group: MultiThreadedEventLoopGroup) {
        self.context = context
        self.group = group
    }

    private func bootstrap() -> ServerBootstrap {
        let context = self.context
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IngestHandler(context: context))
                }
            }
    }

    /// Starts listening. `activatedFDs` are the descriptors systemd passed; without them the configured path is bound.
    func start(activatedFDs: [Int32]) async throws {
        if let fd = activatedFDs.first {
            channel = try await bootstrap().withBoundSocket(fd).get()
            activated = true
            return
        }
        let settings = context.settings.daemon
        let path = settings.socketPath
        try Self.removeStaleSocket(at: path)
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        channel = try await bootstrap().bind(unixDomainSocketPath: path).get()
        boundPath = path
        if chmod(path, mode_t(settings.socketMode)) != 0 {
            context.logger.warning("cannot set the socket's mode", metadata: ["path": "\(path)", "errno": "\(errno)"])
        }
    }

    /// Stops accepting new connections (open ones go on).
    func stopAccepting() async {
        try? await channel?.close().get()
        if let boundPath { unlink(boundPath) }
    }

    /// Refuses to take over a socket another process still answers on, and never removes a non-socket.
    static func removeStaleSocket(at path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else {
            throw DaemonError("\(path) exists and is not a socket; refusing to remove it")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard POSIXIO.unixAddress(path) != nil else { throw DaemonError("socket path \(path) is too long") }
        if POSIXIO.unixSocketCall(fd, path, connect) == 0 {
            throw DaemonError("another process is listening on \(path); is canaryd already running?")
        }
        unlink(path)
    }
}

/// A reason the daemon cannot start or go on, for a person to act on.
public struct DaemonError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
