import AsyncHTTPClient
import CanaryCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A configured webhook ready to post: its settings and its signing key.
public struct WebhookTarget: Sendable {
    public var settings: WebhookSettings
    public var signature: WebhookSignature

    /// Loads the secret; fails with the reason when the file is missing or unusable.
    public static func load(_ settings: WebhookSettings) throws -> WebhookTarget {
        do {
            return WebhookTarget(settings: settings, signature: try WebhookSignature.load(file: settings.secretFile))
        } catch {
            throw DaemonError("webhooks.\(settings.name): \(error)")
        }
    }
}

/// Posts signed alert bodies with async-http-client. One request is one attempt; what came of it
/// is returned as a value, never thrown. Redirects are not followed (a webhook URL is exact);
/// certificates are verified.
public final class WebhookSender: Sendable {
    private let client: HTTPClient

    public init() {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        // A refused connection is one failed attempt, decided by Canary's own retry policy (which asks
        // about consent again before the next one), not retried out of sight until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    /// Sends one body. `timestamp` is the attempt's time (epoch seconds), signed with the id and body.
    public func post(_ body: String, id: String, to target: WebhookTarget, timestamp: Int) async -> DeliveryAttempt {
        let s = target.settings
        var request = HTTPClientRequest(url: s.url.absoluteString)
        request.method = .POST
        for (name, value) in s.headers.sorted(by: { $0.key < $1.key }) { request.headers.add(name: name, value: value) }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "canaryd/\(CanaryCoreVersion.string)")
        request.headers.add(name: "webhook-id", value: id)
        request.headers.add(name: "webhook-timestamp", value: String(timestamp))
        request.headers.add(name: "webhook-signature", value: target.signature.sign(id: id, timestamp: timestamp, body: body))
        request.body = .bytes(ByteBuffer(string: body))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(s.timeoutSeconds * 1000)))
            // The answer's body is read (so the connection can be reused) but not kept.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let retryAfter = RetryAfter.seconds(response.headers.first(name: "Retry-After"), now: Double(timestamp))
            return .status(Int(response.status.code), retryAfter: retryAfter)
        } catch {
            return .failed(Self.describe(error))
        }
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    /// A network failure in words an operator can act on.
    static func describe(_ error: any Error) -> String {
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timed out"
            case .remoteConnectionClosed: return "the receiver closed the connection"
            default: return "\(e)"
            }
        }
        if let e = error as? IOError { return "connection failed: \(String(cString: strerror(e.errnoCode)))" }
        if let e = error as? NIOConnectionError {
            return "connection failed: " + (e.connectionErrors.first.map { describe($0.error) } ?? "\(e)")
        }
        return String(describing: error)
    }
}
