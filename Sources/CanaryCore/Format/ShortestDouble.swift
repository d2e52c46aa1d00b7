/// Shortest round-trip decimal text of a `Double`, byte for byte what `Double.description` prints,
/// written into a caller's buffer: no `String`, no allocation.
///
/// The digits are Ryu's (Ulf Adams, PLDI 2018: the shortest decimal that reads back as the same double,
/// the closest one when several are as short), as in ryu/d2s.c; the layout is Swift's: "nan", "inf",
/// "-inf", "0.0", "-0.0", fixed notation with at least one fraction digit ("100.0", "0.0001") from 1e-4
/// up to 2^53, exponential outside ("1e-05", "1.2345678901234568e+17").
public enum ShortestDouble {
    /// Enough bytes for any double ("-2.2250738585072014e-308" is 24).
    public static let capacity = 32

    /// Writes `value` as `value.description` reads into `out` (at least `capacity` bytes); returns the
    /// number of bytes written.
    public static func write(_ value: Double, into out: UnsafeMutablePointer<UInt8>) -> Int {
        if value.isNaN { return copy("nan", into: out) }
        if value.isInfinite { return copy(value < 0 ? "-inf" : "inf", into: out) }
        var n = 0
        if value.sign == .minus {
            out[0] = UInt8(ascii: "-")
            n = 1
        }
        if value == 0 { return n + copy("0.0", into: out + n) }
        let (digits, exponent) = decimal(value)
        return n + layout(digits: digits, exponent: exponent, large: value.magnitude > 9_007_199_254_740_992, into: out + n)
    }

    // MARK: Layout (Swift's)

    private static func copy(_ s: StaticString, into out: UnsafeMutablePointer<UInt8>) -> Int {
        let n = s.utf8CodeUnitCount
        for i in 0..<n { out[i] = s.utf8Start[i] }
        return n
    }

    /// Writes `digits` x 10^`exponent` (no trailing zeros in `digits`).
    private static func layout(digits: UInt64, exponent: Int, large: Bool, into out: UnsafeMutablePointer<UInt8>) -> Int {
        let count = decimalLength(digits)
        let scientific = exponent + count - 1
        if large || scientific < -4 {
            // d.ddde+XX: the digits one byte right, then the first moved in front of the point.
            writeDigits(digits, count: count, into: out + 1)
            out[0] = out[1]
            var n = 1
            if count > 1 {
                out[1] = UInt8(ascii: ".")
                n = count + 1
            }
            out[n] = UInt8(ascii: "e")
            out[n + 1] = scientific < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
            n += 2
            let e = abs(scientific)
            if e >= 100 {
                out[n] = UInt8(truncatingIfNeeded: e / 100) &+ 48
                n += 1
            }
            out[n] = UInt8(truncatingIfNeeded: e / 10 % 10) &+ 48
            out[n + 1] = UInt8(truncatingIfNeeded: e % 10) &+ 48
            return n + 2
        }
        if scientific < 0 {
            // 0.000ddd
            let zeros = -scientific - 1
            out[0] = UInt8(ascii: "0")
            out[1] = UInt8(ascii: ".")
            for i in 0..<zeros { out[2 + i] = UInt8(ascii: "0") }
            writeDigits(digits, count: count, into: out + 2 + zeros)
            return 2 + zeros + count
        }
        let integerDigits = scientific + 1
        if count <= integerDigits {
            // ddd000.0
            writeDigits(digits, count: count, into: out)
            for i in count..<integerDigits { out[i] = UInt8(ascii: "0") }
            out[integerDigits] = UInt8(ascii: ".")
            out[integerDigits + 1] = UInt8(ascii: "0")
            return integerDigits + 2
        }
        // ddd.ddd: the digits one byte right, then the integer part moved back over the gap.
        writeDigits(digits, count: count, into: out + 1)
        for i in 0..<integerDigits { out[i] = out[i + 1] }
        out[integerDigits] = UInt8(ascii: ".")
        return count + 1
    }

    @inline(__always)
    private static func decimalLength(_ v: UInt64) -> Int {
        // Digits of 2^bits - 1 bound those of v; one comparison settles it.
        let bits = 64 - v.leadingZeroBitCount
        let guess = (bits * 1233) >> 12                  // floor(bits * log10(2))
        return guess + (guess < 20 && v >= powersOfTen[guess] ? 1 : 0)
    }

    private static let powersOfTen: [UInt64] = (0..<20).map { (0..<$0).reduce(UInt64(1)) { p, _ in p * 10 } }

    /// The `count` decimal digits of `v`, most significant first, two at a time.
    @inline(__always)
    private static func writeDigits(_ value: UInt64, count: Int, into out: UnsafeMutablePointer<UInt8>) {
        var v = value
        var i = count
        while i >= 2 {
            let pair = UInt32(truncatingIfNeeded: v % 100)
            v /= 100
            i -= 2
            // pair / 10 and pair % 10 for pair < 100, by multiplication.
            let tens = (pair &* 103) >> 10
            out[i] = UInt8(truncatingIfNeeded: tens) &+ 48
            out[i + 1] = UInt8(truncatingIfNeeded: pair &- tens &* 10) &+ 48
        }
        if i == 1 { out[0] = UInt8(truncatingIfNeeded: v) &+ 48 }
    }

    // MARK: Digits (Ryu)

    private static let mantissaBits = 52
    private static let bias = 1023
    private static let pow5InverseBitCount = 125
    private static let pow5BitCount = 125

    /// The shortest digits and decimal exponent of a finite, non-zero `value` (sign ignored), without
    /// trailing zeros in the digits.
    static func decimal(_ value: Double) -> (digits: UInt64, exponent: Int) {
        let ieeeMantissa = value.bitPattern & ((1 << 52) - 1)
        let ieeeExponent = Int((value.bitPattern >> 52) & 0x7ff)
        // Whole numbers below 2^53: the integer itself.
        let e2small = ieeeExponent - bias - mantissaBits
        if e2small <= 0 && e2small >= -52 {
            let m2 = (1 << 52) | ieeeMantissa
            if m2 & ((1 << UInt64(-e2small)) - 1) == 0 {
                var digits = m2 >> UInt64(-e2small)
                var exponent = 0
                while digits % 10 == 0 { digits /= 10; exponent += 1 }
                return (digits, exponent)
            }
        }
        let e2: Int
        let m2: UInt64
        if ieeeExponent == 0 {
            e2 = 1 - bias - mantissaBits - 2
            m2 = ieeeMantissa
        } else {
            e2 = ieeeExponent - bias - mantissaBits - 2
            m2 = (1 << 52) | ieeeMantissa
        }
        let acceptBounds = m2 & 1 == 0
        let mv = 4 * m2
        let mmShift: UInt64 = ieeeMantissa != 0 || ieeeExponent <= 1 ? 1 : 0
        var vr: UInt64, vp: UInt64, vm: UInt64
        let e10: Int
        var vmIsTrailingZeros = false
        var vrIsTrailingZeros = false
        if e2 >= 0 {
            let q = log10Pow2(e2) - (e2 > 3 ? 1 : 0)
            e10 = q
            let k = pow5InverseBitCount + pow5Bits(q) - 1
            let i = -e2 + q + k
            (vr, vp, vm) = mulShiftAll(m2, table: pow5InverseSplit, index: q, shift: i, mmShift: mmShift)
            if q <= 21 {
                if mv % 5 == 0 {
                    vrIsTrailingZeros = multipleOfPowerOf5(mv, q)
                } else if acceptBounds {
                    vmIsTrailingZeros = multipleOfPowerOf5(mv - 1 - mmShift, q)
                } else if multipleOfPowerOf5(mv + 2, q) {
                    vp -= 1
                }
            }
        } else {
            let q = log10Pow5(-e2) - (-e2 > 1 ? 1 : 0)
            e10 = q + e2
            let i = -e2 - q
            let k = pow5Bits(i) - pow5BitCount
            let j = q - k
            (vr, vp, vm) = mulShiftAll(m2, table: pow5Split, index: i, shift: j, mmShift: mmShift)
            if q <= 1 {
                vrIsTrailingZeros = true
                if acceptBounds { vmIsTrailingZeros = mmShift == 1 } else { vp -= 1 }
            } else if q < 63 {
                vrIsTrailingZeros = mv & ((1 << UInt64(q)) - 1) == 0
            }
        }
        var removed = 0
        var lastRemovedDigit: UInt64 = 0
        let output: UInt64
        if vmIsTrailingZeros || vrIsTrailingZeros {
            while vp / 10 > vm / 10 {
                vmIsTrailingZeros = vmIsTrailingZeros && vm % 10 == 0
                vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit == 0
                lastRemovedDigit = vr % 10
                vr /= 10; vp /= 10; vm /= 10
                removed += 1
            }
            if vmIsTrailingZeros {
                while vm % 10 == 0 {
                    vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit == 0
                    lastRemovedDigit = vr % 10
                    vr /= 10; vp /= 10; vm /= 10
                    removed += 1
                }
            }
            if vrIsTrailingZeros && lastRemovedDigit == 5 && vr % 2 == 0 { lastRemovedDigit = 4 }
            let roundUp = (vr == vm && (!acceptBounds || !vmIsTrailingZeros)) || lastRemovedDigit >= 5
            output = vr + (roundUp ? 1 : 0)
        } else {
            // The common case: no trailing zeros to track.
            var roundUp = false
            if vp / 100 > vm / 100 {
                roundUp = vr % 100 >= 50
                vr /= 100; vp /= 100; vm /= 100
                removed += 2
            }
            while vp / 10 > vm / 10 {
                roundUp = vr % 10 >= 5
                vr /= 10; vp /= 10; vm /= 10
                removed += 1
            }
            output = vr + (vr == vm || roundUp ? 1 : 0)
        }
        var digits = output
        var exponent = e10 + removed
        while digits % 10 == 0 { digits /= 10; exponent += 1 }
        return (digits, exponent)
    }

    @inline(__always) private static func pow5Bits(_ e: Int) -> Int { ((e * 1_217_359) >> 19) + 1 }
    @inline(__always) private static func log10Pow2(_ e: Int) -> Int { (e * 78_913) >> 18 }
    @inline(__always) private static func log10Pow5(_ e: Int) -> Int { (e * 732_923) >> 20 }

    private static func multipleOfPowerOf5(_ value: UInt64, _ p: Int) -> Bool {
        var v = value
        var count = 0
        while v > 0 && v % 5 == 0 { v /= 5; count += 1 }
        return count >= p
    }

    @inline(__always)
    private static func mulShift(_ m: UInt64, _ low: UInt64, _ high: UInt64, _ shift: Int) -> UInt64 {
        let b0 = UInt128(m) * UInt128(low)
        let b2 = UInt128(m) * UInt128(high)
        return UInt64(truncatingIfNeeded: ((b0 >> 64) + b2) >> (shift - 64))
    }

    @inline(__always)
    private static func mulShiftAll(_ m: UInt64, table: [UInt64], index: Int, shift: Int, mmShift: UInt64) -> (UInt64, UInt64, UInt64) {
        let low = table[2 * index], high = table[2 * index + 1]
        return (mulShift(4 * m, low, high, shift), mulShift(4 * m + 2, low, high, shift),
                mulShift(4 * m - 1 - mmShift, low, high, shift))
    }
}
