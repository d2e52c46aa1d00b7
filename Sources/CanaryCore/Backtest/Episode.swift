/// A labelled episode of one subject: the local dates it covers, inclusive.
public struct Episode: Sendable, Equatable {
    public var subject: String
    /// Local day indices (days since 1970-01-01), inclusive.
    public var start: Int
    public var end: Int
    public var label: String

    public init(subject: String, start: Int, end: Int, label: String = "") {
        self.subject = subject
        self.start = start
        self.end = end
        self.label = label
    }

    /// Reads `subject,start,end[,label]` lines (dates `YYYY-MM-DD`); a first line naming the columns
    /// is a header. Blank lines and `#` comments are skipped. Errors name the line and the field.
    public static func parse(_ text: String) throws(EpisodeFileError) -> [Episode] {
        var episodes: [Episode] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let number = i + 1
            if line.allSatisfy({ $0 == " " }) || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
            if episodes.isEmpty && number == 1 && fields.first == "subject" { continue }
            guard fields.count == 3 || fields.count == 4 else {
                throw EpisodeFileError(line: number, "expected subject,start,end[,label], found \(fields.count) fields")
            }
            guard !fields[0].isEmpty else { throw EpisodeFileError(line: number, "field 'subject' is empty") }
            guard let start = day(fields[1]) else { throw EpisodeFileError(line: number, "field 'start': '\(fields[1])' is not a date YYYY-MM-DD") }
            guard let end = day(fields[2]) else { throw EpisodeFileError(line: number, "field 'end': '\(fields[2])' is not a date YYYY-MM-DD") }
            guard end >= start else { throw EpisodeFileError(line: number, "field 'end': \(fields[2]) is before start \(fields[1])") }
            episodes.append(Episode(subject: fields[0], start: start, end: end, label: fields.count == 4 ? fields[3] : ""))
        }
        return episodes
    }

    /// `YYYY-MM-DD` of a day index.
    public static func date(_ day: Int) -> String { PeriodLabel.day(day) }

    /// The day index of `YYYY-MM-DD`, nil when it is not a valid date.
    public static func day(_ text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), d >= 1, d <= TimestampParser.daysIn(month: m, year: y) else { return nil }
        return TimestampParser.daysFromCivil(year: y, month: m, day: d)
    }
}

/// A line of an episodes file that cannot be read, with why.
public struct EpisodeFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    public init(line: Int, _ reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "line \(line): \(reason)" }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
