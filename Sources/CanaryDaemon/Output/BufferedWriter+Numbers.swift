import CanaryCore

extension BufferedWriter {
    /// Appends `value` exactly as `"\(value)"` would (shortest round-trip digits, "inf"), without a
    /// `String` per value. A NaN (never a score: they are kept finite) goes through interpolation, which
    /// prints its sign and payload ("-nan", "snan(0x1)") where `description` says "nan".
    public func write(_ value: Double) {
        if value.isNaN { return write("\(value)") }
        reserve(ShortestDouble.capacity) { ShortestDouble.write(value, into: $0) }
    }

    /// Appends a comma, then `value` (a CSV field after the first).
    @inline(__always)
    public func writeField(_ value: Double) {
        write(byte: UInt8(ascii: ","))
        write(value)
    }

    /// Appends a comma, then `text`.
    @inline(__always)
    public func writeField(_ text: String) {
        write(byte: UInt8(ascii: ","))
        write(text)
    }

    /// Appends `value` in decimal, as `String(value)` would.
    public func write(_ value: Int64) {
        reserve(20) { out in
            var magnitude = value.magnitude
            var digits = 0
            repeat { digits += 1; magnitude /= 10 } while magnitude > 0
            let sign = value < 0 ? 1 : 0
            if sign == 1 { out[0] = UInt8(ascii: "-") }
            magnitude = value.magnitude
            var i = sign + digits
            repeat {
                i -= 1
                out[i] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 48
                magnitude /= 10
            } while magnitude > 0
            return sign + digits
        }
    }

    /// Appends a number as alerts and scores write it: a whole number below 1e15 without a fraction,
    /// else the shortest round-trip digits (`AlertJSON.number`, which writes "null" for non-finite values).
    public func writeNumber(_ value: Double) {
        if value == value.rounded() && abs(value) < 1e15 { write(Int64(value)) } else { write(value) }
    }
}
