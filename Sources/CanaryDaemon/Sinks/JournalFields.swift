import CanaryCore

/// How alerts and log records become journald entries: fixed MESSAGE_IDs per kind (explained in
/// `systemd/canary.catalog`), priorities by severity, and `CANARY_*` fields one can filter on.
public enum JournalFields {
    /// MESSAGE_ID of each alert kind; the catalog entries carry the same ids.
    public static func messageID(_ kind: AlertKind) -> String {
        switch kind {
        case .deviation: MessageID.deviation
        case .composite: MessageID.composite
        case .gap: MessageID.gap
        case .resolved: MessageID.resolved
        }
    }

    /// syslog priority: 2 crit, 4 warning, 5 notice, 6 info.
    public static func priority(_ severity: Severity) -> Int {
        switch severity {
        case .critical: 2
        case .warning: 4
        case .notice: 5
        case .info: 6
        }
    }

    /// - Parameter subject: how the subject is named in the journal (a pseudonymous token by default).
    public static func alert(_ a: Alert, subject: String? = nil) -> [(String, String)] {
        let label = subject ?? a.subject
        var f: [(String, String)] = [
            ("MESSAGE", "\(label): \(a.explanation)"),
            ("PRIORITY", String(priority(a.severity))),
            ("MESSAGE_ID", messageID(a.kind)),
            ("SYSLOG_IDENTIFIER", "canaryd"),
            ("CANARY_ALERT_ID", a.id),
            ("CANARY_SUBJECT", label),
            ("CANARY_KIND", a.kind.rawValue),
            ("CANARY_SEVERITY", a.severity.rawValue),
            ("CANARY_RULE", a.rule),
            ("CANARY_FEATURE", a.features.joined(separator: ",")),
            ("CANARY_PERIOD", a.period),
            ("CANARY_PERIOD_START", AlertJSON.number(a.periodStart)),
        ]
        if let v = a.value { f.append(("CANARY_VALUE", AlertJSON.number(v))) }
        if let v = a.baseline { f.append(("CANARY_BASELINE", AlertJSON.number(v))) }
        if let v = a.scale { f.append(("CANARY_SCALE", AlertJSON.number(v))) }
        if let v = a.z { f.append(("CANARY_Z", AlertJSON.number(v))) }
        if let d = a.direction { f.append(("CANARY_DIRECTION", d.rawValue)) }
        return f
    }

    /// A journald field name from an arbitrary key: upper-case letters, digits and underscores,
    /// not starting with an underscore or digit, at most 64 characters.
    public static func sanitize(_ key: String) -> String {
        var out = ""
        for u in key.unicodeScalars {
            switch u {
            case "A"..."Z", "0"..."9", "_": out.unicodeScalars.append(u)
            case "a"..."z": out.unicodeScalars.append(Unicode.Scalar(u.value - 32)!)
            default: out += "_"
            }
        }
        while out.hasPrefix("_") { out.removeFirst() }
        if out.isEmpty || out.first!.isNumber { out = "F_" + out }
        return String(out.prefix(64))
    }
}
