/// What kind of event an alert is.
public enum AlertKind: String, Sendable, Codable, CaseIterable {
    /// One feature left the person's usual range (threshold with persistence, or CUSUM).
    case deviation
    /// Several features moved together past a chi-square bound.
    case composite
    /// A stream went quiet for longer than allowed.
    case gap
    /// An earlier deviation, composite or gap ended.
    case resolved
}

/// How urgent an alert is; maps to journald priorities in the daemon.
public enum Severity: String, Sendable, Codable, Comparable {
    case info, notice, warning, critical

    private var rank: Int {
        switch self {
        case .info: 0
        case .notice: 1
        case .warning: 2
        case .critical: 3
        }
    }

    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// One decision of the engine that someone may need to hear about. The daemon routes it; the core only makes it.
public struct Alert: Sendable, Equatable, Codable {
    /// Deterministic: the same subject, rule and period always give the same id (the idempotency key downstream).
    public var id: String
    public var kind: AlertKind
    public var severity: Severity
    public var subject: String
    /// The rule that fired, e.g. `sleep_duration.threshold`, `steps.cusum`, `gap.activity`, `composite.wellbeing`.
    public var rule: String
    public var features: [String]
    public var value: Double?
    public var baseline: Double?
    public var scale: Double?
    public var z: Double?
    public var direction: Direction?
    /// The period label: a local date (`2026-03-05`), an hour (`2026-03-05T14:00`), or an instant for raw samples.
    public var period: String
    /// Epoch seconds of the period's start.
    public var periodStart: Double
    /// One line a clinician can read.
    public var explanation: String

    public init(kind: AlertKind, severity: Severity, subject: String, rule: String, features: [String],
                value: Double? = nil, baseline: Double? = nil, scale: Double? = nil, z: Double? = nil,
                direction: Direction? = nil, period: String, periodStart: Double, explanation: String) {
        self.id = Alert.makeID(subject: subject, rule: rule, period: period, kind: kind)
        self.kind = kind
        self.severity = severity
        self.subject = subject
        self.rule = rule
        self.features = features
        self.value = value
        self.baseline = baseline
        self.scale = scale
        self.z = z
        self.direction = direction
        self.period = period
        self.periodStart = periodStart
        self.explanation = explanation
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, severity, subject, rule, features, value, baseline, scale, z, direction, period
        case periodStart = "period_start", explanation
    }

    /// 128-bit FNV-1a over `subject \0 rule \0 period \0 kind`, as 32 hex digits. Stable across runs and machines.
    public static func makeID(subject: String, rule: String, period: String, kind: AlertKind) -> String {
        var h1: UInt64 = 0xcbf2_9ce4_8422_2325
        var h2: UInt64 = 0x6c62_272e_07bb_0142
        func feed(_ s: String) {
            for b in s.utf8 {
                h1 = (h1 ^ UInt64(b)) &* 0x0000_0100_0000_01b3
                h2 = (h2 ^ UInt64(b)) &* 0x0000_0100_0000_01b3 &+ 0x9e37_79b9
            }
            h1 = (h1 ^ 0) &* 0x0000_0100_0000_01b3
            h2 = (h2 ^ 0xff) &* 0x0000_0100_0000_01b3
        }
        feed(subject); feed(rule); feed(period); feed(kind.rawValue)
        return hex(h1) + hex(h2)
    }

    private static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

/// One evaluated value with its baseline: a row of the `--scores` backtesting output.
public struct Observation: Sendable, Equatable {
    /// Epoch seconds: the observation's instant for raw samples, the period's start otherwise.
    public var timestamp: Double
    public var subject: String
    public var metric: String
    public var deviation: Deviation

    public init(timestamp: Double, subject: String, metric: String, deviation: Deviation) {
        self.timestamp = timestamp
        self.subject = subject
        self.metric = metric
        self.deviation = deviation
    }
}
