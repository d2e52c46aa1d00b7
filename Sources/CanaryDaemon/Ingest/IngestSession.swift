import CanaryCore

/// One ingest conversation (a socket client, or standard input): bytes in, records to the engine,
/// protocol replies out. `ERR <line> <reason>` for each rejected line, and on end of input
/// `OK accepted=N rejected=M`.
public struct IngestSession {
    public var accepted: Int { lines.accepted }
    public var rejected: Int { lines.rejected }
    private var splitter: LineSplitter
    private var lines: LineHandler

    public init(zones: ZoneBook, latestAccepted: Double, maxLineBytes: Int = 64 * 1024,
                format: InputFormat? = nil, subject: String? = nil) {
        splitter = LineSplitter(maxLineBytes: maxLineBytes)
        lines = LineHandler(stream: IngestStream(format: format, subject: subject, zones: zones, latestAccepted: latestAccepted),
                            maxLineBytes: maxLineBytes)
    }

    /// Time zones as directives in this session have set them.
    public var zones: ZoneBook { lines.stream.effectiveZones }

    /// Feeds received bytes. Records go to `record`, protocol replies to `reply` (without newline).
    public mutating func receive(_ bytes: UnsafeBufferPointer<UInt8>, record: (Record) -> Void, reply: (String) -> Void) {
        splitter.feed(bytes) { piece in lines.handle(piece, record: record, reply: reply) }
    }

    /// The client finished sending: the last unterminated line counts, then the final `OK` reply.
    public mutating func finish(record: (Record) -> Void, reply: (String) -> Void) {
        splitter.finish { piece in lines.handle(piece, record: record, reply: reply) }
        reply("OK accepted=\(accepted) rejected=\(rejected)")
    }

    /// `ERR <line> <kind>: <field>: <reason>`: the kind first, so scripts can match on it.
    static func err(_ e: RowError) -> String {
        if let field = e.field { return "ERR \(e.line) \(e.kind.rawValue): field '\(field)': \(e.reason)" }
        return "ERR \(e.line) \(e.kind.rawValue): \(e.reason)"
    }
}

/// What happens to each split line of a session.
private struct LineHandler {
    var stream: IngestStream
    let maxLineBytes: Int
    var accepted = 0
    var rejected = 0

    mutating func handle(_ piece: LineSplitter.Piece, record: (Record) -> Void, reply: (String) -> Void) {
        switch piece {
        case .tooLong(let number, let bytes):
            rejected += 1
            reply(IngestSession.err(RowError.lineTooLong(line: number, bytes: bytes, limit: maxLineBytes)))
        case .line(let bytes, let number):
            switch stream.feed(bytes, number: number) {
            case .record(let r):
                accepted += 1
                record(r)
            case .rejected(let e):
                rejected += 1
                reply(IngestSession.err(e))
            case .control:
                break
            case .refused(let h):
                rejected += 1
                reply("ERR \(number) \(h.reason)")
            }
        }
    }
}
