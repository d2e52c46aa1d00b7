import CanaryCore
import Foundation
import Logging

/// Encodes each subject's part of a snapshot on its own, so that one subject whose state cannot be
/// encoded (JSON holds no infinity or NaN) is left out of the commit and reported, instead of
/// failing the commit for everyone: the other subjects are saved and their alerts delivered.
///
/// The report names the subject by its pseudonymous token (even where the journal is set to raw ids)
/// and carries no value; it is made once per subject until that subject's state can be saved again.
final class SubjectStateEncoder: @unchecked Sendable {
    private let lock = NSLock()
    private var failing: Set<String> = []
    private let systemd: any SystemdAPI
    private let logger: Logger

    init(systemd: any SystemdAPI, logger: Logger) {
        self.systemd = systemd
        self.logger = logger
    }

    /// The encoded state of every subject that could be encoded; the others are reported (named by
    /// `name`, the token) and skipped (their last saved state, if any, stays in the database).
    func encode(_ states: [String: SubjectSnapshot], with encoder: JSONEncoder,
                name: (String) -> String) -> [String: Data] {
        var out: [String: Data] = [:]
        out.reserveCapacity(states.count)
        var failed: [(String, any Error)] = []
        for (subject, state) in states {
            do {
                out[subject] = try state.encoded(with: encoder)
            } catch {
                failed.append((subject, error))
            }
        }
        // Remembered by token, never by id: nothing of an erased subject stays in memory.
        let saved = lock.withLock { failing.isEmpty } ? [] : out.keys.map(name)
        let newlyFailing: [(String, any Error)] = lock.withLock {
            failing.subtract(saved)
            return failed.map { (name($0.0), $0.1) }.filter { failing.insert($0.0).inserted }
        }
        for (token, error) in newlyFailing { report(token, error) }
        return out
    }

    private func report(_ name: String, _ error: any Error) {
        let reason = Self.reason(error)
        _ = systemd.journalSend([
            ("MESSAGE", "evaluation state of \(name) cannot be saved (\(reason)); it is left out of the snapshot, the other subjects are saved"),
            ("PRIORITY", "3"),
            ("SYSLOG_IDENTIFIER", "canaryd"),
            ("CANARY_SUBJECT", name),
        ])
        logger.error("evaluation state of a subject cannot be saved; the other subjects are saved",
                     metadata: ["subject": "\(name)", "reason": "\(reason)"])
    }

    /// Why encoding failed, without the offending value or anything but the top-level key of its path.
    static func reason(_ error: any Error) -> String {
        guard case EncodingError.invalidValue(_, let context) = error else { return "\(type(of: error))" }
        let part = context.codingPath.first.map { " in '\($0.stringValue)'" } ?? ""
        return "a value that JSON cannot hold (infinite or NaN)\(part)"
    }
}
