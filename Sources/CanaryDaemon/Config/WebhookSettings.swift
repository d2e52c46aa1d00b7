import CanaryCore
import Foundation

/// One `[webhooks.<name>]` table: where a webhook posts, how it signs, what it takes, how it retries.
public struct WebhookSettings: Sendable, Equatable {
    public var name: String
    public var url: URL
    /// A file holding the signing secret (`whsec_<base64>` as Standard Webhooks writes it, or the raw key).
    /// A relative name is a systemd credential (`$CREDENTIALS_DIRECTORY/<name>`).
    public var secretFile: String
    /// Per request, connect to last byte, in seconds.
    public var timeoutSeconds = 10.0
    /// Sent with every request (e.g. an Authorization header the receiver wants).
    public var headers: [String: String] = [:]
    /// Alert kinds this webhook takes.
    public var kinds: Set<AlertKind> = Set(AlertKind.allCases)
    /// The least severity this webhook takes.
    public var minSeverity: Severity = .info
    /// How the subject appears in the body: its pseudonymous token ("token") or its id ("raw").
    public var subject = "token"
    /// Plain http:// to a host that is not loopback needs this.
    public var allowInsecure = false
    public var policy = DeliveryPolicy()
    /// `notify = "grouped"`: one notification per person grouping the alerts (`grouping`), instead of one
    /// request per alert.
    public var grouped = false
    public var grouping = GroupTiming()

    /// Whether this webhook takes an alert (consent is asked separately).
    public func takes(_ alert: Alert) -> Bool {
        kinds.contains(alert.kind) && alert.severity >= minSeverity
    }

    static let keys = ["url", "secret_file", "timeout", "headers", "kinds", "min_severity", "subject", "allow_insecure",
                       "backoff_initial", "backoff_max", "max_age", "notify", "group_wait", "group_interval", "repeat_interval"]

    /// Reads one webhook's table.
    static func parse(_ t: inout TableReader, name: String) throws(ConfigError) -> WebhookSettings {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ConfigError(key: t.key(""), "a webhook name uses letters, digits, - and _ only (it is part of the consent scope alert:webhook:<name>)")
        }
        guard let text = try t.string("url"), let url = URL(string: text), let scheme = url.scheme?.lowercased(),
              ["http", "https"].contains(scheme), let host = url.host, !host.isEmpty else {
            throw ConfigError(key: t.key("url"), "expected an http:// or https:// URL")
        }
        guard let secret = try t.string("secret_file"), !secret.isEmpty else {
            throw ConfigError(key: t.key("secret_file"), "every webhook is signed: name the file (or systemd credential) holding its secret")
        }
        var w = WebhookSettings(name: name, url: url, secretFile: secret)
        if let v = try t.bool("allow_insecure") { w.allowInsecure = v }
        if scheme == "http" && !w.allowInsecure && !Self.isLoopback(url: text) {
            throw ConfigError(key: t.key("url"), "plain http:// only to a loopback host; use https://, or set allow_insecure = true")
        }
        if let v = try t.duration("timeout", in: 0...3600, excludingLower: true) {
            w.timeoutSeconds = v
        }
        if var h = try t.subtable("headers") {
            for key in h.table.keys.sorted() {
                guard let v = try h.string(key) else { continue }
                let reserved = ["content-type", "content-length", "host", "webhook-id", "webhook-timestamp", "webhook-signature"]
                guard !reserved.contains(key.lowercased()) else {
                    throw ConfigError(key: h.key(key), "canaryd sets this header itself")
                }
                w.headers[key] = v
            }
        }
        if let names = try t.strings("kinds") {
            var kinds: Set<AlertKind> = []
            for n in names {
                guard let k = AlertKind(rawValue: n) else {
                    throw ConfigError(key: t.key("kinds"), "unknown kind \"\(n)\"; expected \(AlertKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                kinds.insert(k)
            }
            w.kinds = kinds
        }
        if let v = try t.choice("min_severity", Severity.self, allowed: ["info", "notice", "warning", "critical"]) { w.minSeverity = v }
        if let v = try t.choice("subject", CanaryConfiguration.SubjectLabel.self, allowed: ["token", "raw"]) { w.subject = v.rawValue }
        if let v = try t.duration("backoff_initial", in: 0...86_400) { w.policy.initialBackoff = max(0.01, v) }
        if let v = try t.duration("backoff_max", in: 0...7 * 86_400) { w.policy.maxBackoff = max(w.policy.initialBackoff, v) }
        if let v = try t.duration("max_age", in: 0...366 * 86_400, excludingLower: true) {
            w.policy.maxAge = v
        }
        if let v = try t.string("notify") {
            guard ["alerts", "grouped"].contains(v) else {
                throw ConfigError(key: t.key("notify"), "expected \"alerts\" (one request per alert) or \"grouped\" (one notification per person)")
            }
            w.grouped = v == "grouped"
        }
        if let v = try t.duration("group_wait", in: 0...86_400) { w.grouping.wait = v }
        if let v = try t.duration("group_interval", in: 0...30 * 86_400) { w.grouping.interval = v }
        if let v = try t.duration("repeat_interval", in: 0...366 * 86_400) { w.grouping.repeatEvery = v }
        try t.finish(known: keys)
        return w
    }

    /// Whether the URL's host is this machine: `localhost`, an IPv4 literal in 127.0.0.0/8, or `::1`.
    /// The host is parsed (user info, port and path cannot pass for it) and literals are read as
    /// addresses, so `http://127.attacker.example/` is not loopback.
    static func isLoopback(url: String) -> Bool {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else { return false }
        return isLoopback(host: host)
    }

    static func isLoopback(host: String) -> Bool {
        var h = host.lowercased()
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        if h == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, h, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, h, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
        }
        return false
    }
}
