import Foundation

/// The operating curve of a sweep as a self-contained SVG: false alerts per 100 person-days across,
/// detection rate up, one labelled point per setting, so a reader picks the setting whose false-alert
/// load their staff can handle.
public enum OperatingCurve {
    public struct Point: Sendable, Equatable {
        public var setting: Double
        public var falsePer100: Double
        public var detection: Double
        public init(setting: Double, falsePer100: Double, detection: Double) {
            self.setting = setting
            self.falsePer100 = falsePer100
            self.detection = detection
        }
    }

    public static func svg(key: String, points: [Point]) -> String {
        let width = 640.0, height = 440.0
        let left = 70.0, right = 30.0, top = 40.0, bottom = 60.0
        let plotW = width - left - right, plotH = height - top - bottom
        let maxX = max(1, (points.map(\.falsePer100).max() ?? 1) * 1.1)
        func x(_ v: Double) -> Double { left + v / maxX * plotW }
        func y(_ v: Double) -> Double { top + (1 - v) * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <title>Operating curve: \(escape(key))</title>
        <desc>Detection rate against false alerts per 100 person-days for each setting of \(escape(key)): \(points.map { "\(Explanation.formatSetting($0.setting)): \(String(format: "%.0f%%", $0.detection * 100)) detected, \(String(format: "%.2f", $0.falsePer100)) false" }.joined(separator: "; ")).</desc>
        <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="white"/>
        <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="14">Operating curve — \(escape(key))</text>

        """
        for i in 0...5 {
            let v = Double(i) / 5
            out += "<line x1=\"\(f(left))\" y1=\"\(f(y(v)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(v)))\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(f(left - 8))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(Int(v * 100))%</text>\n"
            let xv = maxX * Double(i) / 5
            out += "<text x=\"\(f(x(xv)))\" y=\"\(f(top + plotH + 18))\" text-anchor=\"middle\">\(String(format: "%.2g", xv))</text>\n"
        }
        out += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\" stroke=\"black\"/>"
        out += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\" stroke=\"black\"/>\n"
        out += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 15))\" text-anchor=\"middle\">false alerts per 100 person-days</text>\n"
        out += "<text x=\"18\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(f(top + plotH / 2)))\">episodes detected</text>\n"
        let sorted = points.sorted { ($0.falsePer100, $0.detection) < ($1.falsePer100, $1.detection) }
        if sorted.count > 1 {
            out += "<polyline fill=\"none\" stroke=\"#0072B2\" stroke-width=\"2\" points=\"\(sorted.map { "\(f(x($0.falsePer100))),\(f(y($0.detection)))" }.joined(separator: " "))\"/>\n"
        }
        for p in points {
            out += "<circle cx=\"\(f(x(p.falsePer100)))\" cy=\"\(f(y(p.detection)))\" r=\"4\" fill=\"#D55E00\"><title>\(escape(key)) = \(Explanation.formatSetting(p.setting))</title></circle>"
            out += "<text x=\"\(f(x(p.falsePer100) + 6))\" y=\"\(f(y(p.detection) - 6))\" font-size=\"10\">\(Explanation.formatSetting(p.setting))</text>\n"
        }
        out += "</svg>\n"
        return out
    }
}

extension Explanation {
    /// A swept setting as typed: `3`, `2.75`, `0.001`.
    public static func formatSetting(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
        var s = String(format: "%.6f", v)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }
}
