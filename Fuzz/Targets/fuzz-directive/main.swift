import CanaryCore
import Foundation
import FuzzDriver

// The `#canary` directive line (format, subject, tz), then a header and a row under whatever it set.
// Input: the text after `#canary`, up to the first newline; anything after it is fed as further lines.

runFuzzer { data, count in
    let input = fuzzBytes(data, count)
    var stream = IngestStream(zones: ZoneBook(), latestAccepted: 1_800_000_000)
    var lines: [[UInt8]] = [Array("#canary ".utf8) + Array(input.prefix { $0 != 10 })]
    lines += input.split(separator: 10, omittingEmptySubsequences: false).dropFirst().prefix(8).map(Array.init)
    lines += [Array("timestamp,subject,metric,value".utf8), Array("1767225600,s1,hr,61".utf8),
              Array("subject,start,end".utf8), Array("s1,2026-01-01T23:00:00,2026-01-02T07:00:00".utf8)]
    for (i, line) in lines.enumerated() {
        _ = line.withUnsafeBufferPointer { stream.feed($0, number: i + 1) }
        // A `tz=` directive for a subject, once the caller assigns it (as the daemon does after its
        // consent check), is in force for that subject.
        if let directive = stream.takeZoneDirective() {
            stream.assignZone(directive.zone, to: directive.subject)
            fuzzCheck(stream.effectiveZones.zone(for: directive.subject) == directive.zone, "tz= for \(directive.subject) not in force")
        }
    }
    return 0
}
