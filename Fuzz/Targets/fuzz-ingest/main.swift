import CanaryCore
import CanaryDaemon
import Foundation
import FuzzDriver

// An ingest conversation as canaryd has it: bytes through the line splitter into the record parser
// of each format (by directive, by header, or named by the client), with consent asked per subject.
// Input: byte 0 picks the format the client names (or none), byte 1 the chunk size; the rest is the
// stream. Besides "never traps", the replies must not depend on how the bytes were chunked.

/// Replies and counts of one conversation fed in chunks of `chunk` bytes.
func converse(_ stream: UnsafeBufferPointer<UInt8>, format: InputFormat?, chunk: Int) -> (replies: [String], records: Int) {
    var session = IngestSession(zones: ZoneBook(), latestAccepted: 1_800_000_000, maxLineBytes: 512, format: format,
                                subject: format == nil ? nil : "s1", admit: { $0 != "refused" })
    var replies: [String] = []
    var records = 0
    var start = 0
    while start < stream.count {
        let end = min(stream.count, start + chunk)
        session.receive(UnsafeBufferPointer(rebasing: stream[start..<end]), record: { _, _ in records += 1 }, reply: { replies.append($0) })
        start = end
    }
    session.finish(record: { _, _ in records += 1 }, reply: { replies.append($0) })
    fuzzCheck(session.accepted == records, "accepted \(session.accepted) but \(records) records")
    return (replies, records)
}

runFuzzer { data, count in
    let input = fuzzBytes(data, count)
    guard input.count >= 2 else { return 0 }
    let formats: [InputFormat?] = [nil] + InputFormat.allCases.map { $0 }
    let format = formats[Int(input[0]) % formats.count]
    let stream = UnsafeBufferPointer(rebasing: input[2...])
    let whole = converse(stream, format: format, chunk: max(1, stream.count))
    let chunked = converse(stream, format: format, chunk: 1 + Int(input[1]) % 97)
    fuzzCheck(whole.replies == chunked.replies && whole.records == chunked.records,
              "chunking changed the conversation: \(whole.replies.suffix(3)) vs \(chunked.replies.suffix(3))")
    return 0
}
