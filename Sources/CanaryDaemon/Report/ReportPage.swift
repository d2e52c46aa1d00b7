import CanaryCore
import Foundation

/// What the report template shows, every number and coordinate already worked out: a summary
/// (period, data coverage per stream, alerts by kind, what deviates now) and one chart per feature
/// with data (values, the baseline band centre ± threshold × scale, deviating days, alerts and
/// `resolved` events with their explanations, a table of the numbers as the chart's text alternative).
/// Built from `ReportData` by `ReportPage.make`; rendered by `ReportRenderer`.
struct ReportPage {
    struct Coverage {
        let stream: String
        let days: Int
        let of: Int
        let percent: String
    }

    struct KindCount {
        let kind: String
        let count: Int
    }

    struct Tick {
        let at: String
        let label: String
    }

    struct Dot {
        let cx: String
        let cy: String
        let deviating: Bool
        let title: String
    }

    /// An alert or `resolved` event on a chart: a numbered line at its period, explained below the chart.
    struct Marker {
        let x: String
        let number: Int
        let resolved: Bool
        let date: String
        let kind: String
        let explanation: String
    }

    struct Row {
        let date: String
        let value: String
        let baseline: String
        let z: String
        let deviating: Bool
    }

    struct Chart {
        let id: String
        let label: String
        let estimated: Bool
        let rule: String
        let width = ReportPage.width
        let height = ReportPage.height
        let plotLeft = ReportPage.left
        let plotRight = ReportPage.width - ReportPage.right
        let plotTop = ReportPage.top
        let plotBottom = ReportPage.height - ReportPage.bottom
        let bands: [String]
        let lines: [String]
        let dots: [Dot]
        let markers: [Marker]
        let hasMarkers: Bool
        let yTicks: [Tick]
        let xTicks: [Tick]
        let description: String
        let rows: [Row]
    }

    let subject: String
    let from: String
    let to: String
    let zone: String
    let generated: String
    let source: String
    let coverage: [Coverage]
    let alertCounts: [KindCount]
    let hasAlerts: Bool
    let deviatingNow: [String]
    let hasDeviating: Bool
    let otherEvents: [Marker]
    let hasOtherEvents: Bool
    let charts: [Chart]
    let hasCharts: Bool

    static let width = 680
    static let height = 190
    static let left = 64
    static let right = 12
    static let top = 14
    static let bottom = 26

    /// - Parameters:
    ///   - name: the subject as the report names it (the configuration's journal naming).
    ///   - from, to: the period, [from, to) in epoch seconds (local midnights of the subject's zone).
    static func make(_ data: ReportData, name: String, from: Double, to: Double, generated: Double, source: String) -> ReportPage {
        let zone = TimeZone(identifier: data.zone) ?? TimeZone(identifier: "UTC")!
        let day = DayFormat(zone: zone)
        let days = max(1, Int(((to - from) / 86_400).rounded()))
        var streamDays: [CanaryCore.Stream: Set<String>] = [:]
        for s in data.series {
            for p in s.points { streamDays[s.stream, default: []].insert(day.label(p.start)) }
        }
        let coverage = data.streams.map(\.stream).map { stream in
            let n = streamDays[stream]?.count ?? 0
            return Coverage(stream: stream.rawValue, days: n, of: days, percent: "\(Int((Double(n) / Double(days) * 100).rounded())) %")
        }
        var counts: [AlertKind: Int] = [:]
        for a in data.alerts { counts[a.kind, default: 0] += 1 }
        let alertCounts = AlertKind.allCases.compactMap { k in counts[k].map { KindCount(kind: k.rawValue, count: $0) } }
        let deviatingNow = data.series.filter { !$0.open.isEmpty }.map { "\($0.label) (\($0.open.joined(separator: ", ")))" }

        var number = 0
        var charts: [Chart] = []
        // Features with alerts first, in the order of their first alert; then the others by name.
        func firstAlert(_ s: ReportData.Series) -> Double { data.alerts.first { $0.features.contains(s.name) }?.periodStart ?? .infinity }
        let ordered = data.series.filter { !$0.points.isEmpty }.sorted { (firstAlert($0), $0.label) < (firstAlert($1), $1.label) }
        for series in ordered {
            let alerts = data.alerts.filter { $0.features.contains(series.name) }
            let markers = alerts.map { a -> (Alert, Int) in
                number += 1
                return (a, number)
            }
            charts.append(chart(series, markers: markers, from: from, to: to, day: day))
        }
        let charted = Set(charts.map(\.id))
        let other = data.alerts.filter { a in !a.features.contains { charted.contains($0) } }.map { a -> Marker in
            number += 1
            return Marker(x: "0", number: number, resolved: a.kind == .resolved, date: a.period, kind: a.kind.rawValue, explanation: a.explanation)
        }
        return ReportPage(subject: name, from: day.label(from), to: day.label(to - 1), zone: zone.identifier,
                          generated: ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: generated)), source: source,
                          coverage: coverage, alertCounts: alertCounts, hasAlerts: !alertCounts.isEmpty,
                          deviatingNow: deviatingNow, hasDeviating: !deviatingNow.isEmpty, otherEvents: other, hasOtherEvents: !other.isEmpty,
                          charts: charts, hasCharts: !charts.isEmpty)
    }

    /// One feature's chart.
    private static func chart(_ s: ReportData.Series, markers: [(Alert, Int)], from: Double, to: Double, day: DayFormat) -> Chart {
        let threshold = s.threshold ?? 3
        let circular = s.unit == .clock
        // Clock times are drawn around their usual time, so a night crossing midnight stays one line.
        let reference = circular ? (s.points.compactMap(\.centre).last ?? s.points.map(\.value).sorted()[s.points.count / 2]) : 0
        func unwrap(_ v: Double) -> Double {
            guard circular else { return v }
            var d = (v - reference).truncatingRemainder(dividingBy: 1440)
            if d >= 720 { d -= 1440 } else if d < -720 { d += 1440 }
            return reference + d
        }
        var lo = Double.infinity, hi = -Double.infinity
        for p in s.points {
            let v = unwrap(p.value)
            lo = min(lo, v)
            hi = max(hi, v)
            if let c = p.centre, let sc = p.scale {
                lo = min(lo, unwrap(c) - threshold * sc)
                hi = max(hi, unwrap(c) + threshold * sc)
            }
        }
        // Counts, durations and shares are never negative: the band is cut at 0 rather than drawn below it.
        let nonNegative = s.unit == .count || s.unit == .minutes || s.unit == .fraction || s.unit == .milliseconds
        if nonNegative { lo = max(lo, 0) }
        if hi - lo < 1e-9 { (lo, hi) = (lo - 1, hi + 1) }
        let pad = (hi - lo) * 0.06
        (lo, hi) = (lo - pad, hi + pad)
        let left = Double(left), right = Double(width - Self.right), top = Double(top), bottom = Double(height - Self.bottom)
        func x(_ t: Double) -> Double { left + (t + 43_200 - from) / max(1, to - from) * (right - left) }
        func y(_ v: Double) -> Double { min(bottom, max(top, bottom - (unwrap(v) - lo) / (hi - lo) * (bottom - top))) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        // Runs of consecutive days: a missing day (no data, non-wear) breaks the line and the band.
        var runs: [[ReportData.Point]] = []
        for p in s.points {
            if let last = runs.last?.last, p.start - last.start <= 1.5 * 86_400 { runs[runs.count - 1].append(p) } else { runs.append([p]) }
        }
        let lines = runs.filter { $0.count > 1 }.map { run in run.map { "\(f(x($0.start))),\(f(y($0.value)))" }.joined(separator: " ") }
        var bands: [String] = []
        for run in runs {
            var band: [ReportData.Point] = []
            func close() {
                guard !band.isEmpty else { return }
                // A lone day gets a narrow band of its own.
                let xs = band.count == 1 ? [x(band[0].start) - 3, x(band[0].start) + 3] : band.map { x($0.start) }
                let ps = band.count == 1 ? [band[0], band[0]] : band
                let upper = zip(xs, ps).map { "\(f($0)),\(f(y($1.centre! + threshold * $1.scale!)))" }
                let lower = zip(xs, ps).reversed().map { "\(f($0)),\(f(y($1.centre! - threshold * $1.scale!)))" }
                bands.append((upper + lower).joined(separator: " "))
                band = []
            }
            for p in run {
                if p.centre != nil && p.scale != nil { band.append(p) } else { close() }
            }
            close()
        }
        func deviates(_ p: ReportData.Point) -> Bool {
            guard let z = p.z else { return false }
            switch s.direction {
            case "low": return z <= -threshold
            case "high": return z >= threshold
            default: return abs(z) >= threshold
            }
        }
        func show(_ v: Double) -> String { Explanation.format(v, unit: s.unit) }
        let dots = s.points.map { p in
            Dot(cx: f(x(p.start)), cy: f(y(p.value)), deviating: deviates(p),
                title: "\(day.label(p.start)): \(show(p.value))" + (p.z.map { String(format: ", z %+.1f", $0) } ?? ""))
        }
        let rows = s.points.map { p in
            Row(date: day.label(p.start), value: show(p.value),
                baseline: p.centre.map { c in "\(show(c)) ± \(Explanation.formatScale(p.scale ?? 0, unit: s.unit))" } ?? "learning",
                z: p.z.map { String(format: "%+.1f", $0) } ?? "", deviating: deviates(p))
        }
        let chartMarkers = markers.map { a, n in
            Marker(x: f(x(a.periodStart)), number: n, resolved: a.kind == .resolved, date: a.period, kind: a.kind.rawValue, explanation: a.explanation)
        }
        let yTicks = (0...3).map { i -> Tick in
            let v = lo + (hi - lo) * Double(i) / 3
            return Tick(at: f(y(v)), label: show(v))
        }
        let step = max(1, Int(((to - from) / 86_400 / 6).rounded(.up)))
        let xTicks = stride(from: from, to: to, by: Double(step) * 86_400).map { Tick(at: f(x($0)), label: day.short($0)) }
        let deviating = s.points.filter(deviates).count
        let description = "\(s.label)\(s.estimated ? " (estimated from activity)" : ""): \(s.points.count) days with a value between \(day.label(from)) and \(day.label(to - 1)), "
            + "\(deviating) outside the usual range (|z| ≥ \(f(threshold))), \(markers.count) alert and resolved events. The table below lists every value."
        let rule = s.threshold.map { "band: usual ± \(f($0)) × spread" + (s.direction.map { $0 == "both" ? "" : ", alerts when \($0)" } ?? "") }
            ?? "band: usual ± 3 × spread (no rule on this feature)"
        return Chart(id: s.name, label: s.label, estimated: s.estimated, rule: rule, bands: bands, lines: lines, dots: dots,
                     markers: chartMarkers, hasMarkers: !chartMarkers.isEmpty, yTicks: yTicks, xTicks: xTicks,
                     description: description, rows: rows)
    }
}

/// Local calendar days of the subject's zone: `2026-03-05` and `Mar 5`.
struct DayFormat {
    private let full: DateFormatter
    private let brief: DateFormatter
    private let calendar: Calendar

    init(zone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        self.calendar = calendar
        full = DateFormatter()
        full.locale = Locale(identifier: "en_US_POSIX")
        full.timeZone = zone
        full.dateFormat = "yyyy-MM-dd"
        brief = DateFormatter()
        brief.locale = Locale(identifier: "en_US_POSIX")
        brief.timeZone = zone
        brief.dateFormat = "MMM d"
    }

    func label(_ t: Double) -> String { full.string(from: Date(timeIntervalSince1970: t)) }
    func short(_ t: Double) -> String { brief.string(from: Date(timeIntervalSince1970: t)) }

    /// The local midnight after the one starting at `t` (a day of 23 or 25 hours across a DST change).
    func nextMidnight(_ t: Double) -> Double {
        calendar.date(byAdding: .day, value: 1, to: Date(timeIntervalSince1970: t))!.timeIntervalSince1970
    }

    /// The local midnight starting `label` (`2026-03-05`), nil when it is no date.
    func start(of label: String) -> Double? { full.date(from: label)?.timeIntervalSince1970 }
}
