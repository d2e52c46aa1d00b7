import Foundation

/// The real HTTP receiver of the webhook tests (`Fixtures/webhook_receiver.py`): verifies each
/// request's signature itself, answers as its plan says, and logs every request.
final class WebhookReceiver: @unchecked Sendable {
    let port: Int
    let secretFile: String
    let logPath: String
    let planPath: String
    private var process: Process?
    /// A self-signed certificate and its key, when the receiver serves HTTPS.
    private(set) var tls: (cert: String, key: String)?

    /// One logged request.
    struct Request {
        var id: String
        var verified: Bool
        var fresh: Bool
        var status: Int
        var received: Double
        var timestamp: Int
        var extraHeader: String
        var contentType: String
        var body: [String: Any]?
        var subject: String { body?["subject"] as? String ?? "" }
    }

    /// Picks a free loopback port and writes the secret; the server starts with `start()`.
    init(directory: String) throws {
        port = try Self.freePort()
        secretFile = directory + "/webhook-secret"
        logPath = directory + "/webhook-requests.jsonl"
        planPath = directory + "/webhook-plan.json"
        let secret = "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try secret.write(toFile: secretFile, atomically: true, encoding: .utf8)
        try plan(default: 200)
    }

    var url: String { "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)/canary" }

    /// Serve HTTPS with a freshly made self-signed certificate (which no verifying client trusts).
    func useSelfSignedTLS() throws {
        let dir = (secretFile as NSString).deletingLastPathComponent
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1",
                       "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TestFailure("openssl could not make a certificate") }
        tls = (dir + "/cert.pem", dir + "/key.pem")
    }

    /// The answers: `sequence` one per request in arrival order, then `default`.
    func plan(sequence: [(Int, String?)] = [], default status: Int = 200, delay: Double = 0) throws {
        let seq = sequence.map { [$0.0, $0.1 as Any? ?? NSNull()] as [Any] }
        let data = try JSONSerialization.data(withJSONObject: ["sequence": seq, "default": status, "delay": delay])
        try data.write(to: URL(fileURLWithPath: planPath + ".tmp"))
        rename(planPath + ".tmp", planPath)
    }

    func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [TestSupport.fixture("webhook_receiver.py"), String(port), secretFile, logPath, planPath]
            + (tls.map { [$0.cert, $0.key] } ?? [])
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        process = p
        // "listening" once the socket is bound.
        _ = out.fileHandleForReading.availableData
    }

    func stop() {
        guard let p = process else { return }
        process = nil
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        let deadline = Date().addingTimeInterval(5)
        while p.isRunning && Date() < deadline { usleep(10_000) }
    }

    var requests: [Request] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Request(id: o["id"] as? String ?? "", verified: o["verified"] as? Bool ?? false, fresh: o["fresh"] as? Bool ?? false,
                           status: o["status"] as? Int ?? 0, received: o["received"] as? Double ?? 0,
                           timestamp: Int(o["timestamp"] as? String ?? "") ?? 0, extraHeader: o["extra"] as? String ?? "",
                           contentType: o["content_type"] as? String ?? "", body: o["body"] as? [String: Any])
        }
    }

    /// Requests the receiver answered with a 2xx.
    var accepted: [Request] { requests.filter { (200...299).contains($0.status) } }

    /// Waits until `count` requests were answered with a 2xx.
    @discardableResult
    func waitForAccepted(_ count: Int, timeout: Double = 30) throws -> [Request] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let a = accepted
            if a.count >= count { return a }
            usleep(50_000)
        }
        throw TestFailure("the receiver accepted \(accepted.count) of \(count) alerts within \(timeout) s; requests: \(requests.map { "\($0.id.prefix(8)) \($0.status)" })")
    }

    func waitForRequests(_ count: Int, timeout: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if requests.count >= count { return }
            usleep(50_000)
        }
        throw TestFailure("the receiver saw \(requests.count) of \(count) requests within \(timeout) s")
    }

    /// A free loopback port below the kernel's ephemeral range: a port from that range can be taken, while
    /// the receiver is down, by an outgoing connection (canaryd retrying towards it can even connect to
    /// itself), and then the receiver cannot bind it when it comes up.
    static func freePort() throws -> Int {
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
            .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
        let ephemeralStart = range?.first ?? 32768
        let candidates = (10_000..<max(10_001, min(ephemeralStart, 65_536))).shuffled()
        for port in candidates.prefix(200) where bindable(port) { return port }
        throw TestFailure("no free port below \(ephemeralStart)")
    }

    private static func bindable(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    deinit { stop() }
}
