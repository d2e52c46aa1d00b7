import Foundation

/// Which IANA time zone each subject lives in: a default plus per-subject overrides.
///
/// Local (offset-less) timestamps and every daily feature are read on the subject's own calendar.
public struct ZoneBook: Sendable, Equatable {
    public var defaultZone: TimeZone
    public var subjects: [String: TimeZone]

    public init(defaultZone: TimeZone = TimeZone(identifier: "UTC")!, subjects: [String: TimeZone] = [:]) {
        self.defaultZone = defaultZone
        self.subjects = subjects
    }

    public func zone(for subject: String) -> TimeZone {
        subjects[subject] ?? defaultZone
    }
}
