import Foundation

/// Remembers the strings of recently seen identifiers (subjects, metrics) by their bytes, so the
/// per-row path neither validates UTF-8 nor builds a new `String` for a name it has seen before.
///
/// Each slot also carries a mark (an instant) for its name, so per-name bookkeeping on the hot path
/// costs no hashing beyond the cache's own; a name pushed out of its slot hands its mark back.
struct IdentifierCache: Sendable {
    private var slots: [String?]
    private var marks: [Double]
    private let mask: Int

    init(capacity: Int = 4096) {
        var size = 1
        while size < capacity { size <<= 1 }
        slots = [String?](repeating: nil, count: size)
        marks = [Double](repeating: -.infinity, count: size)
        mask = size - 1
    }

    /// Where a name is cached (valid until another name takes the slot), and whether it was just added.
    struct Place {
        var slot: Int
        var fresh: Bool
    }

    /// The cached string equal to `bytes` and its place, or the result of `make` (then cached; a name
    /// it pushes out is handed to `evicted` with its mark, when the mark was set).
    mutating func place<E: Error>(_ bytes: UnsafeBufferPointer<UInt8>, make: () throws(E) -> String,
                                  evicted: (String, Double) -> Void) throws(E) -> (String, Place) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        let slot = Int(truncatingIfNeeded: h ^ (h >> 29)) & mask
        if let s = slots[slot], Self.equal(s, bytes) { return (s, Place(slot: slot, fresh: false)) }
        let s = try make()
        if let old = slots[slot], marks[slot] > -.infinity { evicted(old, marks[slot]) }
        slots[slot] = s
        marks[slot] = -.infinity
        return (s, Place(slot: slot, fresh: true))
    }

    /// Whether `slot` still holds `name` (cheap for the same string: its storage is compared first).
    func holds(_ slot: Int, _ name: String) -> Bool { slots[slot] == name }

    /// The mark of the name in `slot`.
    subscript(mark slot: Int) -> Double {
        get { marks[slot] }
        set { marks[slot] = newValue }
    }

    private static func equal(_ s: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard s.utf8.count == bytes.count else { return false }
        return s.utf8.withContiguousStorageIfAvailable { a in
            memcmp(a.baseAddress!, bytes.baseAddress!, bytes.count) == 0
        } ?? s.utf8.elementsEqual(bytes)
    }

    /// The cached string equal to `bytes`, or the result of `make` (then cached).
    mutating func string<E: Error>(_ bytes: UnsafeBufferPointer<UInt8>, make: () throws(E) -> String) throws(E) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        let slot = Int(truncatingIfNeeded: h ^ (h >> 29)) & mask
        if let s = slots[slot], Self.equal(s, bytes) { return s }
        let s = try make()
        slots[slot] = s
        return s
    }
}
