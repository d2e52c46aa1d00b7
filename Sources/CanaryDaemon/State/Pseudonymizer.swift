import Crypto
import Foundation

/// Pseudonymous subject tokens for the journal: a keyed HMAC-SHA256 of the subject id with a local
/// secret, truncated. Stable while the key is kept; meaningless without it.
public struct Pseudonymizer: Sendable {
    private let key: Data

    public init(key: Data) {
        self.key = key
    }

    /// `ps-` and the first 10 bytes of HMAC-SHA256(key, subject), in hex.
    public func token(for subject: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(subject.utf8), using: SymmetricKey(data: key))
        return "ps-" + mac.prefix(10).map { String(format: "%02x", $0) }.joined()
    }

    /// The key: a systemd credential (`$CREDENTIALS_DIRECTORY/<credential>`) when one is passed, else
    /// `path`, generated once with secure randomness and kept owner-only when missing.
    public static func loadKey(path: String, credential: String = "pseudonym-key",
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Data {
        if let dir = environment["CREDENTIALS_DIRECTORY"] {
            let credentialPath = dir + "/" + credential
            if let data = FileManager.default.contents(atPath: credentialPath) {
                guard data.count >= 16 else { throw DaemonError("the credential \(credential) is shorter than 16 bytes") }
                return data
            }
        }
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count >= 16 else { throw DaemonError("the pseudonym key \(path) is shorter than 16 bytes") }
            return data
        }
        var generator = SystemRandomNumberGenerator()  // getrandom(2) on Linux
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        // Written owner-only and moved into place, so a half-written key is never read.
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DaemonError("cannot create the pseudonym key \(path): \(String(cString: strerror(errno)))") }
        let written = key.withUnsafeBytes { POSIXIO.writeAll(fd, $0) }
        fsync(fd)
        close(fd)
        guard written, rename(temporary, path) == 0 else {
            throw DaemonError("cannot write the pseudonym key \(path): \(String(cString: strerror(errno)))")
        }
        return key
    }
}
