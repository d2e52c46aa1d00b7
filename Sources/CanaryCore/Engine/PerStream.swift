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

extension PerStream: Equatable where Value: Equatable {
    static func == (a: PerStream, b: PerStream) -> Bool {
        Stream.allCases.allSatisfy { a[$0] == b[$0] }
    }
}
