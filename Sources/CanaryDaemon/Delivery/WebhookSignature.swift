import Crypto
import Foundation

/// Standard Webhooks signing (https://www.standardwebhooks.com): HMAC-SHA256 over
/// `<webhook-id>.<webhook-timestamp>.<body>`, sent as `webhook-signature: v1,<base64>`.
public struct WebhookSignature: Sendable {
    private let key: Data

    /// - Parameter secret: the secret as written in its file: `whsec_<base64>` (the convention's form),
    ///   otherwise the bytes themselves. Surrounding whitespace is ignored.
    public init(secret: String) throws {
        let text = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw DaemonError("the webhook secret is empty") }
        if text.hasPrefix("whsec_") {
            guard let bytes = Data(base64Encoded: String(text.dropFirst(6))), bytes.count >= 16 else {
                throw DaemonError("a whsec_ secret must be base64 of at least 16 bytes")
            }
            key = bytes
        } else {
            guard text.utf8.count >= 16 else { throw DaemonError("the webhook secret is shorter than 16 bytes") }
            key = Data(text.utf8)
        }
    }

    /// Reads the secret from a file; a relative name is a systemd credential (`$CREDENTIALS_DIRECTORY/<name>`).
    public static func load(file: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> WebhookSignature {
        let path: String
        if file.hasPrefix("/") {
            path = file
        } else if let dir = environment["CREDENTIALS_DIRECTORY"] {
            path = dir + "/" + file
        } else {
            path = file
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw DaemonError("cannot read the webhook secret file \(path) (LoadCredential= in the unit, or an absolute path)")
        }
        return try WebhookSignature(secret: text)
    }

    /// The `webhook-signature` header value.
    public func sign(id: String, timestamp: Int, body: String) -> String {
        var message = Data("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body.utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }
}
