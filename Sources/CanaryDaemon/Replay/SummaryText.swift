import CanaryCore
import Foundation

/// The human summary printed after a replay.
public enum SummaryText {
    public static func render(_ s: Replay.Summary) -> String {
        var lines: [String] = ["replay summary:"]
        for format in InputFormat.allCases {
            let a = s.counts.accepted[format] ?? 0
            let r = s.counts.rejected[format] ?? 0
            if a + r > 0 { lines.append("  \(format.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) accepted=\(a) rejected=\(r)") }
        }
        if s.counts.rejectedUnknown > 0 { lines.append("  (no format) rejected=\(s.counts.rejectedUnknown)") }
        lines.append("  subjects=\(s.subjects)")
        let kinds = AlertKind.allCases.map { "\($0.rawValue)=\(s.alertsByKind[$0] ?? 0)" }.joined(separator: " ")
        lines.append("  alerts: \(kinds) total=\(s.alertsByKind.values.reduce(0, +))")
        if s.observations > 0 { lines.append("  observations scored=\(s.observations)") }
        if s.lateRows > 0 { lines.append("  late rows (period already closed, not evaluated)=\(s.lateRows)") }
        if s.duplicateRows > 0 { lines.append("  duplicate rows (already held: same subject, stream and instant, or a raw sample not newer than its series' latest; counted once)=\(s.duplicateRows)") }
        if s.refusedRows > 0 {
            lines.append("  refused rows (beyond engine.max_subjects or engine.max_metrics_per_subject, not evaluated)=\(s.refusedRows)")
        }
        lines.append(String(format: "  %.2f s, %.0f rows/s", s.seconds, s.rowsPerSecond))
        return lines.joined(separator: "\n") + "\n"
    }
}
