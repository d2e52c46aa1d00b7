/// Splits a byte stream into lines, chunk by chunk, with a cap on line length.
///
/// A line over the cap is reported once and skipped up to its newline without being buffered,
/// so one enormous line cannot take the memory of a reader. Used by files and sockets alike.
public struct LineSplitter: Sendable {
    public let maxLineBytes: Int
    private var pending: [UInt8] = []
    private var skipping = false
    private var skippedBytes = 0
    public private(set) var lineNumber = 0

    public init(maxLineBytes: Int = 64 * 1024) {
        self.maxLineBytes = maxLineBytes
    }

    /// What the splitter found.
    public enum Piece {
        case line(UnsafeBufferPointer<UInt8>, number: Int)
        case tooLong(number: Int, bytes: Int)
    }

    /// Feeds a chunk; `body` is called for each complete line (the buffer is valid only during the call).
    public mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>, _ body: (Piece) throws -> Void) rethrows {
        var start = 0
        let n = chunk.count
        while start < n {
            // memchr-style scan for the next newline.
            var i = start
            while i < n && chunk[i] != 10 { i += 1 }
            if i == n {
                // No newline in the rest of this chunk.
                let rest = n - start
                if skipping {
                    skippedBytes += rest
                } else if pending.count + rest > maxLineBytes {
                    skipping = true
                    skippedBytes = pending.count + rest
                    pending.removeAll(keepingCapacity: false)
                } else {
                    pending.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[start..<n]))
                }
                return
            }
            lineNumber += 1
            if skipping {
                try body(.tooLong(number: lineNumber, bytes: skippedBytes + (i - start)))
                skipping = false
                skippedBytes = 0
            } else if pending.isEmpty {
                let length = i - start
                if length > maxLineBytes {
                    try body(.tooLong(number: lineNumber, bytes: length))
                } else {
                    try body(.line(UnsafeBufferPointer(rebasing: chunk[start..<i]), number: lineNumber))
                }
            } else {
                pending.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[start..<i]))
                if pending.count > maxLineBytes {
                    try body(.tooLong(number: lineNumber, bytes: pending.count))
                } else {
                    try pending.withUnsafeBufferPointer { try body(.line($0, number: lineNumber)) }
                }
                pending.removeAll(keepingCapacity: true)
            }
            start = i + 1
        }
    }

    /// Ends the stream: a last line without a newline is still a line.
    public mutating func finish(_ body: (Piece) throws -> Void) rethrows {
        if skipping {
            lineNumber += 1
            try body(.tooLong(number: lineNumber, bytes: skippedBytes))
        } else if !pending.isEmpty {
            lineNumber += 1
            try pending.withUnsafeBufferPointer { try body(.line($0, number: lineNumber)) }
        }
        pending.removeAll()
        skipping = false
        skippedBytes = 0
    }
}
