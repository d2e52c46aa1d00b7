import Foundation
import Logging

/// swift-log handler that writes the daemon's own operational logs to journald as structured
/// entries: metadata keys become journald fields (sanitised to journald's rules). These logs never
/// carry health values or subject ids; alerts are written separately.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let systemd: any SystemdAPI

    public init(label: String, systemd: any SystemdAPI) {
        self.label = label
        self.systemd = systemd
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("MESSAGE", event.message.description),
            ("PRIORITY", String(Self.priority(event.level))),
            ("SYSLOG_IDENTIFIER", "canaryd"),
            ("LOGGER", label),
            ("CODE_FILE", event.file),
            ("CODE_LINE", String(event.line)),
            ("CODE_FUNC", event.function),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            fields.append(("CANARY_" + JournalFields.sanitize(key), "\(value)"))
        }
        if systemd.journalSend(fields) < 0 {
            FileHandle.standardError.write(Data("canaryd: \(event.level): \(event.message)\n".utf8))
        }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
