import Testing
@testable import CanaryCore

/// `ShortestDouble` prints exactly what `Double.description` prints, for every kind of double.
@Suite struct ShortestDoubleTests {
    /// SplitMix64: the same values on every run.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func text(_ x: Double) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: ShortestDouble.capacity) { buffer in
            let n = ShortestDouble.write(x, into: buffer.baseAddress!)
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<n]), as: UTF8.self)
        }
    }

    /// The values that differ: at most a few, so a failure names them.
    static func mismatches(_ xs: some Sequence<Double>) -> [String] {
        var out: [String] = []
        for x in xs where out.count < 5 {
            let ours = text(x)
            if ours != x.description { out.append("\(x.description) (bits \(x.bitPattern)): \(ours)") }
        }
        return out
    }

    @Test func layoutOfSpecialAndBoundaryValues() {
        #expect(Self.text(0) == "0.0" && Self.text(-0.0) == "-0.0")
        #expect(Self.text(.nan) == "nan" && Self.text(.infinity) == "inf" && Self.text(-.infinity) == "-inf")
        #expect(Self.text(100) == "100.0" && Self.text(0.0001) == "0.0001" && Self.text(0.00001) == "1e-05")
        #expect(Self.text(9_007_199_254_740_992) == "9007199254740992.0")
        #expect(Self.text(9_007_199_254_740_994) == "9.007199254740994e+15")
        #expect(Self.text(.leastNonzeroMagnitude) == "5e-324")
        #expect(Self.text(-.greatestFiniteMagnitude) == "-1.7976931348623157e+308")
        let specials: [Double] = [1, 10, 0.1, 0.2, 0.3, 1234.5, 1e15, 1e16, 1e21, 1e22, 1e23, 2.5, 9.9999e-5,
                                  1.2345e-4, .leastNormalMagnitude, .leastNormalMagnitude.nextDown, .ulpOfOne, .pi]
        #expect(Self.mismatches(specials + specials.map { -$0 }) == [])
    }

    @Test func everyPowerOfTwoAndItsNeighbours() {
        let powers = (-1074...1023).map { Double(sign: .plus, exponent: $0, significand: 1) }
        #expect(Self.mismatches(powers.flatMap { [$0, $0.nextUp, $0.nextDown] }) == [])
    }

    @Test func randomBitPatterns() {
        var rng = Seeded(state: 20261207)
        let xs = (0..<200_000).map { _ in Double(bitPattern: rng.next()) }
        #expect(Self.mismatches(xs) == [])
    }

    @Test func shortDecimalsAndWholeNumbers() {
        // Decimals with few digits exercise Ryu's trailing-zero bookkeeping; whole numbers its shortcut.
        var rng = Seeded(state: 7)
        var xs: [Double] = []
        for _ in 0..<100_000 {
            let digits = Int.random(in: 1...99_999_999, using: &rng)
            let exponent = Int.random(in: -30...30, using: &rng)
            xs.append(Double("\(digits)e\(exponent)")!)
            xs.append(Double(Int64.random(in: -(1 << 60)...(1 << 60), using: &rng)))
            xs.append(Double.random(in: -1000...1000, using: &rng))
        }
        #expect(Self.mismatches(xs) == [])
    }
}
