import Foundation

/// Remembers the strings of recently seen identifiers (subjects, metrics) by their bytes, so the
/// per-row path neither validates UTF-8 nor builds a new `String` for a name it has seen before.
struct IdentifierCache: Sendable {
    private var slots: [String?]
    private let mask: Int

    init(capacity: Int = 4096) {
        var size = 1
        while size < capacity { size <<= 1 }
        slots = [String?](repeating: nil, count: size)
        mask = size - 1
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
