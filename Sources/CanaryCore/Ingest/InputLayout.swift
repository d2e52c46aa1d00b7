import Foundation

/// Where each field sits in a CSV input, worked out from its header row (or a named format).
public struct InputLayout: Sendable, Equatable {
    public let format: InputFormat
    /// Number of columns every data row must have.
    public let columnCount: Int
    /// Subject for inputs that carry no subject column (one person's export).
    public let defaultSubject: String?

    var timestamp = -1, subject = -1, metric = -1, value = -1
    var start = -1, end = -1, asleep = -1, awake = -1, efficiency = -1
    var count = -1, hold = -1, flight = -1, key = -1
    /// Name of the count column (`steps`, `activity`, ...), for error messages.
    var countName = "steps"

    /// The header names Canary understands for each format; other columns are carried and ignored.
    static let countNames: Set<String> = ["steps", "activity", "counts", "count"]

    /// Recognises the format from a header row, or checks the header against an explicitly named format.
    public static func detect(header: String, format explicit: InputFormat? = nil,
                              defaultSubject: String? = nil) throws(HeaderError) -> InputLayout {
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t\r\"")).lowercased()
        }
        func index(_ name: String) -> Int { names.firstIndex(of: name) ?? -1 }
        let has = Set(names)
        let format: InputFormat
        if let explicit {
            format = explicit
        } else if has.contains("hold_ms") || has.contains("flight_ms") {
            format = .typing
        } else if has.contains("start") && has.contains("end") {
            format = .sleep
        } else if has.contains("metric") && has.contains("value") {
            format = .samples
        } else if !has.isDisjoint(with: countNames) {
            format = .activity
        } else {
            throw HeaderError("header \"\(header.prefix(120))\" matches no input format; expected one of: "
                + "samples (timestamp,subject,metric,value), sleep (subject,start,end), "
                + "activity (timestamp,subject,steps), typing (timestamp,subject,hold_ms,flight_ms,key)")
        }
        var layout = InputLayout(format: format, columnCount: names.count, defaultSubject: defaultSubject)
        layout.subject = index("subject")
        var required: [String]
        switch format {
        case .samples:
            layout.timestamp = index("timestamp"); layout.metric = index("metric"); layout.value = index("value")
            required = ["timestamp", "metric", "value"]
        case .sleep:
            layout.start = index("start"); layout.end = index("end")
            layout.asleep = index("asleep_min"); layout.awake = index("awake_min"); layout.efficiency = index("efficiency")
            required = ["start", "end"]
        case .activity:
            layout.timestamp = index("timestamp")
            if let name = names.first(where: { countNames.contains($0) }) {
                layout.count = index(name)
                layout.countName = name
            }
            required = ["timestamp", layout.count >= 0 ? layout.countName : "steps"]
        case .typing:
            layout.timestamp = index("timestamp"); layout.hold = index("hold_ms")
            layout.flight = index("flight_ms"); layout.key = index("key")
            required = ["timestamp", "hold_ms", "flight_ms", "key"]
        }
        if defaultSubject == nil { required.append("subject") }
        let missing = required.filter { !has.contains($0) }
        guard missing.isEmpty else {
            let hint = missing.contains("subject") ? " (or name the subject for the whole input)" : ""
            throw HeaderError("\(format) header lacks column\(missing.count > 1 ? "s" : "") "
                + missing.joined(separator: ", ") + hint)
        }
        return layout
    }

    /// The layout of typing events sent as JSON Lines (no header row).
    public static func typingJSON(defaultSubject: String? = nil) -> InputLayout {
        InputLayout(format: .typing, columnCount: 0, defaultSubject: defaultSubject)
    }

    /// True when a first line looks like a header rather than data.
    public static func looksLikeHeader(_ line: String) -> Bool {
        guard let first = line.unicodeScalars.first else { return false }
        return CharacterSetASCII.isLetter(first) && !line.hasPrefix("{")
    }
}

enum CharacterSetASCII {
    static func isLetter(_ s: Unicode.Scalar) -> Bool {
        (s.value >= 65 && s.value <= 90) || (s.value >= 97 && s.value <= 122)
    }
}
