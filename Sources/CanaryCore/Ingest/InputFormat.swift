/// The four input streams Canary reads, each a CSV with a header row (typing also as JSON Lines).
public enum InputFormat: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// `timestamp,subject,metric,value`: any numeric signal.
    case samples
    /// `subject,start,end[,asleep_min,awake_min,efficiency]`: one row per sleep session.
    case sleep
    /// `timestamp,subject,steps` (or `activity` counts): epochs of a minute or finer.
    case activity
    /// `timestamp,subject,hold_ms,flight_ms,key`: key timing, never key content.
    case typing

    public var description: String { rawValue }
}

/// The class of a key press. Canary never accepts which character was typed.
public enum KeyClass: UInt8, Sendable, CaseIterable, Codable {
    case char, space, backspace, enter, other

    init?(bytes: UnsafeBufferPointer<UInt8>) {
        switch String(decoding: bytes, as: UTF8.self) {
        case "char": self = .char
        case "space": self = .space
        case "backspace": self = .backspace
        case "enter": self = .enter
        case "other": self = .other
        default: return nil
        }
    }
}
