import Foundation

/// Remembers the strings of recently seen identifiers (subjects, metrics) by their bytes, so the
/// per-row path neither validates UTF-8 nor builds a new `String` for a name it has seen before.
///
/// Each slot also carries a mark (an instant, e.g. a subject's latest row) for its name, so per-name
/// bookkeeping on the hot path costs no hashing beyond the cache's own. A name pushed out of its slot
/// keeps its mark in a side table and gets it back when it returns.
struct IdentifierCache: Sendable {
    private var slots: [String?]
    private var marks: [Double]
    /// Marks of names pushed out of their slot (hashed only when a name is added, and only while non-empty).
    private var spilled: [String: Double] = [:]
    private let mask: Int

    init(capacity: Int = 4096) {
        var size = 1
        while size < capacity { size <<= 1 }
        slots = [String?](repeating: nil, count: size)
        marks = [Double](repeating: -.infinity, count: size)
        mask = size - 1
    }

    private static func equal(_ s: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard s.utf8.count == bytes.count else { return false }
        return s.utf8.withContiguousStorageIfAvailable { a in
            memcmp(a.baseAddress!, bytes.baseAddress!, bytes.count) == 0
        } ?? s.utf8.elementsEqual(bytes)
    }

    /// The cached string equal to `bytes`, or the result of `make` (then cached); `slot` is set to
    /// where it is cached (valid until another name takes the slot).
    mutating func string<E: Error>(_ bytes: UnsafeBufferPointer<UInt8>, slot: inout Int, make: () throws(E) -> String) throws(E) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        let i = Int(truncatingIfNeeded: h ^ (h >> 29)) & mask
        slot = i
        if let s = slots[i], Self.equal(s, bytes) { return s }
        let s = try make()
        if let old = slots[i], marks[i] > -.infinity { spilled[old] = max(spilled[old] ?? -.infinity, marks[i]) }
        slots[i] = s
        marks[i] = spilled.isEmpty ? -.infinity : spilled.removeValue(forKey: s) ?? -.infinity
        return s
    }

    /// The cached string equal to `bytes`, or the result of `make` (then cached).
    mutating func string<E: Error>(_ bytes: UnsafeBufferPointer<UInt8>, make: () throws(E) -> String) throws(E) -> String {
        var slot = 0
        return try string(bytes, slot: &slot, make: make)
    }

    /// The mark of `name` (-infinity when none was set): from its slot when it is still there.
    func mark(of name: String, slot: Int) -> Double {
        if slot >= 0, slots[slot] == name { return marks[slot] }
        return spilled[name] ?? -.infinity
    }

    /// Raises the mark of `name` to at least `value`.
    mutating func raiseMark(of name: String, slot: Int, to value: Double) {
        if slot >= 0, slots[slot] == name {
            if value > marks[slot] { marks[slot] = value }
        } else {
            spilled[name] = max(spilled[name] ?? -.infinity, value)
        }
    }
}
