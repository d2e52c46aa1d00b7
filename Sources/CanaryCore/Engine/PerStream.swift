/// A value per input stream, in fixed slots: cheaper than a dictionary on the per-row path.
struct PerStream<Value: Sendable>: Sendable {
    private var slots: (Value?, Value?, Value?, Value?) = (nil, nil, nil, nil)

    subscript(stream: Stream) -> Value? {
        get {
            switch stream {
            case .sleep: slots.0
            case .activity: slots.1
            case .typing: slots.2
            case .samples: slots.3
            }
        }
        set {
            switch stream {
            case .sleep: slots.0 = newValue
            case .activity: slots.1 = newValue
            case .typing: slots.2 = newValue
            case .samples: slots.3 = newValue
            }
        }
    }
}

extension PerStream {
    /// Changes one slot in place (no copy of the value out and back, as a get and a set would make).
    @inline(__always)
    mutating func update<R>(_ stream: Stream, _ body: (inout Value?) -> R) -> R {
        switch stream {
        case .sleep: body(&slots.0)
        case .activity: body(&slots.1)
        case .typing: body(&slots.2)
        case .samples: body(&slots.3)
        }
    }
}

extension PerStream: Equatable where Value: Equatable {
    static func == (a: PerStream, b: PerStream) -> Bool {
        Stream.allCases.allSatisfy { a[$0] == b[$0] }
    }
}

/// A set of input streams as a bit mask, sorted by name when iterated.
struct StreamSet: Sendable, Equatable, Codable {
    private var bits: UInt8 = 0

    private static func bit(_ s: Stream) -> UInt8 {
        switch s {
        case .sleep: 1
        case .activity: 2
        case .typing: 4
        case .samples: 8
        }
    }

    func contains(_ s: Stream) -> Bool { bits & Self.bit(s) != 0 }
    mutating func insert(_ s: Stream) { bits |= Self.bit(s) }
    func sorted() -> [Stream] { Stream.allCases.filter(contains).sorted() }
}

extension PerStream: Codable where Value: Codable {
    private enum CodingKeys: String, CodingKey { case sleep, activity, typing, samples }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        self[.sleep] = try c.decodeIfPresent(Value.self, forKey: .sleep)
        self[.activity] = try c.decodeIfPresent(Value.self, forKey: .activity)
        self[.typing] = try c.decodeIfPresent(Value.self, forKey: .typing)
        self[.samples] = try c.decodeIfPresent(Value.self, forKey: .samples)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(self[.sleep], forKey: .sleep)
        try c.encodeIfPresent(self[.activity], forKey: .activity)
        try c.encodeIfPresent(self[.typing], forKey: .typing)
        try c.encodeIfPresent(self[.samples], forKey: .samples)
    }
}
