/// The stable JSON form of an alert (one line, fixed key order), shared by replay output,
/// logs and webhooks so every consumer sees the same document.
public enum AlertJSON {
    /// - Parameters:
    ///   - subject: how the subject is named for this reader (a pseudonymous token, say); the id when nil.
    ///   - leading, trailing: extra members (name and JSON text) before and after the alert's own.
    public static func encode(_ a: Alert, subject: String? = nil, leading: [(String, String)] = [],
                              trailing: [(String, String)] = []) -> String {
        var out = "{"
        func key(_ k: String) { if out.count > 1 { out += "," }; out += "\"\(k)\":" }
        func str(_ k: String, _ v: String) { key(k); out += quote(v) }
        func num(_ k: String, _ v: Double?) { key(k); out += v.map(number) ?? "null" }
        for (k, v) in leading { key(k); out += v }
        str("id", a.id)
        str("kind", a.kind.rawValue)
        str("severity", a.severity.rawValue)
        str("subject", subject ?? a.subject)
        str("rule", a.rule)
        key("features"); out += "[" + a.features.map(quote).joined(separator: ",") + "]"
        num("value", a.value)
        num("baseline", a.baseline)
        num("scale", a.scale)
        num("z", a.z)
        key("direction"); out += a.direction.map { quote($0.rawValue) } ?? "null"
        str("period", a.period)
        num("period_start", a.periodStart)
        str("explanation", a.explanation)
        for (k, v) in trailing { key(k); out += v }
        return out + "}"
    }

    /// Shortest round-trip decimal; integers without a fraction; non-finite as null (JSON has no NaN).
    public static func number(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return v.description
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
