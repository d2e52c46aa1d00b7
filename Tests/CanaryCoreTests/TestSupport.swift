import Foundation
import Testing
@testable import CanaryCore

/// Shared fixtures for the CanaryCore tests.
enum Fixture {
    static let utc = TimeZone(identifier: "UTC")!
    static let oslo = TimeZone(identifier: "Europe/Oslo")!
    static let newYork = TimeZone(identifier: "America/New_York")!

    /// 2026-01-01T00:00:00Z and its day index (days since 1970-01-01).
    static let day0: Double = 1_767_225_600
    static let dayIndex0 = 20_454

    static func day(_ i: Int) -> Double { day0 + Double(i) * 86_400 }
}

/// Parses one line the way the daemon does (raw bytes, no intermediate String per field).
/// Takes the parser by value so it can be used inside `#expect`; the parser's only mutable state is a zone cache.
func parseLine(_ parser: RecordParser, _ line: String, _ number: Int = 2) -> Result<Record, RowError> {
    var parser = parser
    return Array(line.utf8).withUnsafeBufferPointer { parser.parse($0, line: number) }
}

func parseTimestamp(_ text: String) -> TimestampParser.Parsed? {
    Array(text.utf8).withUnsafeBufferPointer { TimestampParser.parse($0) }
}

extension Result where Success == Record, Failure == RowError {
    var record: Record? {
        if case .success(let r) = self { return r }
        return nil
    }

    var error: RowError? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
