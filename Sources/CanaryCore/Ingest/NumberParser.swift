import Foundation

/// Fast, correctly rounded parsing of decimal numbers from raw bytes, so ingest never builds a
/// `String` per field. Falls back to `strtod` whenever the fast path could round differently.
enum NumberParser {
    private static let powersOfTen: [Double] = (0...22).map { pow(10.0, Double($0)) }

    /// Parses a finite decimal (`-12.5`, `3`, `1e3`). Returns nil for anything else, including NaN and infinities.
    static func double(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = bytes.count
        guard n > 0, n < 64 else { return n == 0 ? nil : slowDouble(bytes) }
        var i = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") { negative = true; i = 1 } else if bytes[0] == UInt8(ascii: "+") { i = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var sawDot = false
        var sawDigit = false
        while i < n {
            let c = bytes[i]
            if c >= 48 && c <= 57 {
                sawDigit = true
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(c &- 48)
                    if mantissa != 0 { digits += 1 }
                    if sawDot { fractionDigits += 1 }
                } else {
                    return slowDouble(bytes)
                }
            } else if c == UInt8(ascii: ".") && !sawDot {
                sawDot = true
            } else {
                // Exponents, hex and anything odd: let strtod decide, then validate.
                return slowDouble(bytes)
            }
            i += 1
        }
        guard sawDigit else { return nil }
        // Clinger's fast path: exact when the mantissa fits in 53 bits and the power of ten is exact.
        if mantissa < (1 << 53) && fractionDigits <= 22 {
            let value = Double(mantissa) / powersOfTen[fractionDigits]
            return negative ? -value : value
        }
        return slowDouble(bytes)
    }

    private static func slowDouble(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        guard bytes.count < 256 else { return nil }
        for c in bytes {
            // Only plain decimal syntax: no hex floats, no "nan"/"inf" words, no spaces.
            let ok = (c >= 48 && c <= 57) || c == UInt8(ascii: ".") || c == UInt8(ascii: "-")
                || c == UInt8(ascii: "+") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
            if !ok { return nil }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// True for syntactically valid numbers too large for a Double (`1e999`).
    static func isOverflow(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count < 256, let v = Double(String(decoding: bytes, as: UTF8.self)) else { return false }
        return v.isInfinite
    }

    /// Parses an unsigned decimal integer of at most 18 digits.
    static func integer(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard bytes.count > 0, bytes.count <= 18 else { return nil }
        var value = 0
        for c in bytes {
            guard c >= 48 && c <= 57 else { return nil }
            value = value * 10 + Int(c - 48)
        }
        return value
    }
}
