import CanaryCore
import Foundation
import Mustache

/// Renders a person's report (`canaryctl report`) as one self-contained HTML file: `ReportData` laid
/// out by `ReportPage`, written out by the Mustache template `ReportTemplate.page`.
public enum ReportRenderer {
    /// The page for `data` over [from, to) (local dates `2026-03-01`; nil: the data's first and last day).
    /// `name` is how the report names the person; `source` says where the data came from.
    public static func html(_ data: ReportData, name: String, from: String?, to: String?, generated: Double, source: String) throws -> String {
        let (start, end) = try period(data, from: from, to: to)
        var shown = data
        shown.restrict(from: start, to: end)
        let page = ReportPage.make(shown, name: name, from: start, to: end, generated: generated, source: source)
        return try MustacheTemplate(string: ReportTemplate.page).render(page)
    }

    /// [from, to) in epoch seconds: local midnights of the subject's zone, `to` inclusive as a date.
    static func period(_ data: ReportData, from: String?, to: String?) throws -> (Double, Double) {
        let zone = TimeZone(identifier: data.zone) ?? TimeZone(identifier: "UTC")!
        let day = DayFormat(zone: zone)
        func parse(_ label: String, _ option: String) throws -> Double {
            guard let t = day.start(of: label) else { throw ReportError("\(option) \(label): expected a date as 2026-03-05") }
            return t
        }
        let starts = data.series.flatMap { $0.points.map(\.start) } + data.alerts.map(\.periodStart)
        let first = starts.min(), last = starts.max()
        let end = try to.map { day.nextMidnight(try parse($0, "--to")) } ?? last.map { day.nextMidnight(day.start(of: day.label($0)) ?? $0) }
        let start = try from.map { try parse($0, "--from") } ?? first.map { day.start(of: day.label($0)) ?? $0 }
        guard let start, let end else { throw ReportError("\(data.subject) has no evaluated day to report") }
        guard end > start else { throw ReportError("--to is before --from") }
        return (start, end)
    }
}

/// Why a report could not be made, for a person to act on.
public struct ReportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
