import CanaryCore
import Foundation
import GRDB

/// The alert outbox: alerts kept in emission order, the deliveries owed for each channel, the ones
/// made, and the dead letters. The dispatcher reads from here; nothing is deleted before it is
/// delivered or given up.
extension StateStore {
    /// Where a delivery stands.
    public enum DeliveryState: String, Sendable, Codable, CaseIterable {
        case pending, delivered, dead
    }

    /// One channel's delivery of one alert, as `canaryctl alerts` shows it.
    public struct DeliveryRecord: Sendable, Codable, Equatable {
        public var alertID: String
        public var channel: String
        public var state: DeliveryState
        public var attempts: Int
        public var status: Int?
        /// Pending: the last error; dead: why it was given up.
        public var detail: String?
        /// Pending: the next attempt; delivered: when; dead: when given up.
        public var at: Double?
        public var subject: String
        public var kind: String
        public var emittedAt: Double
    }

    func enqueue(_ alerts: [PendingAlert], _ db: Database) throws -> [DeliveryItem] {
        var items: [DeliveryItem] = []
        let encoder = JSONEncoder()
        for p in alerts where !p.channels.isEmpty {
            let body = String(decoding: try encoder.encode(p.alert), as: UTF8.self)
            try db.execute(sql: "INSERT OR IGNORE INTO alert (id, subject, kind, emitted_at, body) VALUES (?, ?, ?, ?, ?)",
                           arguments: [p.alert.id, p.alert.subject, p.alert.kind.rawValue, p.emittedAt, body])
            // Known already (decided again after a crash, or resent): it was queued, delivered or dead-lettered once.
            guard db.changesCount == 1 else { continue }
            let seq = db.lastInsertedRowID
            for channel in p.channels {
                try db.execute(sql: "INSERT INTO outbox (alert_id, channel, attempts, not_before, queued_at) VALUES (?, ?, 0, 0, ?)",
                               arguments: [p.alert.id, channel, p.emittedAt])
                items.append(DeliveryItem(sequence: seq, alertID: p.alert.id, channel: channel, subject: p.alert.subject,
                                          queuedAt: p.emittedAt))
            }
        }
        return items
    }

    /// Every delivery still owed, oldest first (the dispatcher's queue at start).
    public func pendingDeliveries() throws -> [DeliveryItem] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT a.seq, a.id, a.subject, o.channel, o.attempts, o.not_before, o.queued_at
                FROM outbox o JOIN alert a ON a.id = o.alert_id ORDER BY a.seq
                """).map(Self.item)
        }
    }

    /// An alert as kept, with its emission time.
    public struct StoredAlert: Sendable {
        public var alert: Alert
        public var emittedAt: Double
    }

    /// The alerts with these ids.
    public func alerts(_ ids: [String]) throws -> [String: StoredAlert] {
        try pool.read { db in
            var out: [String: StoredAlert] = [:]
            let decoder = JSONDecoder()
            for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                for row in try Row.fetchAll(db, sql: "SELECT body, emitted_at FROM alert WHERE id IN (\(marks))", arguments: StatementArguments(chunk)) {
                    // One body this version cannot read is left out (its delivery is dead-lettered), not a failure of all.
                    guard let a = try? decoder.decode(Alert.self, from: Data((row["body"] as String).utf8)) else { continue }
                    out[a.id] = StoredAlert(alert: a, emittedAt: row["emitted_at"])
                }
            }
            return out
        }
    }

    /// When each (channel, subject) last had a delivery made, for these channels (grouped webhooks).
    public func lastDelivered(channels: [String]) throws -> [DeliveryLane: Double] {
        guard !channels.isEmpty else { return [:] }
        return try pool.read { db in
            let marks = Array(repeating: "?", count: channels.count).joined(separator: ",")
            var out: [DeliveryLane: Double] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT d.channel AS channel, a.subject AS subject, max(d.delivered_at) AS at FROM delivered d
                JOIN alert a ON a.id = d.alert_id WHERE d.channel IN (\(marks)) GROUP BY d.channel, a.subject
                """, arguments: StatementArguments(channels)) {
                out[DeliveryLane(channel: row["channel"], subject: row["subject"])] = row["at"]
            }
            return out
        }
    }

    /// A subject's alerts still kept (within retention), oldest first.
    public func alerts(subject: String) throws -> [Alert] {
        try pool.read { db in
            let decoder = JSONDecoder()
            return try String.fetchAll(db, sql: "SELECT body FROM alert WHERE subject = ? ORDER BY seq", arguments: [subject])
                .compactMap { try? decoder.decode(Alert.self, from: Data($0.utf8)) }
        }
    }

    /// One attempt's result, for `record`.
    public struct AttemptResult: Sendable {
        public var item: DeliveryItem
        public var outcome: DeliveryOutcome
        public var status: Int?

        public init(item: DeliveryItem, outcome: DeliveryOutcome, status: Int?) {
            self.item = item
            self.outcome = outcome
            self.status = status
        }
    }

    /// Writes attempt results in one transaction: delivered and dead rows leave the outbox, retries are rescheduled.
    public func record(_ results: [AttemptResult], at now: Double) throws {
        guard !results.isEmpty else { return }
        try pool.write { db in
            for r in results {
                let key: StatementArguments = [r.item.alertID, r.item.channel]
                switch r.outcome {
                case .delivered:
                    try db.execute(sql: "DELETE FROM outbox WHERE alert_id = ? AND channel = ?", arguments: key)
                    guard db.changesCount == 1 else { continue }  // erased or re-driven meanwhile
                    try db.execute(sql: "INSERT OR REPLACE INTO delivered (alert_id, channel, attempts, status, delivered_at) VALUES (?, ?, ?, ?, ?)",
                                   arguments: key + [r.item.attempts, r.status, now])
                case .dead(let reason):
                    try db.execute(sql: "DELETE FROM outbox WHERE alert_id = ? AND channel = ?", arguments: key)
                    guard db.changesCount == 1 else { continue }
                    try db.execute(sql: "INSERT OR REPLACE INTO dead_letter (alert_id, channel, attempts, status, reason, dead_at) VALUES (?, ?, ?, ?, ?, ?)",
                                   arguments: key + [r.item.attempts, r.status, reason, now])
                case .retry(let at, let reason):
                    try db.execute(sql: "UPDATE outbox SET attempts = ?, not_before = ?, last_status = ?, last_error = ? WHERE alert_id = ? AND channel = ?",
                                   arguments: [r.item.attempts, at, r.status, reason] + key)
                }
            }
        }
    }

    /// Moves dead letters back into the outbox (all of them, one alert's, or one channel's), with a fresh
    /// attempt count and age. Returns the deliveries queued again.
    public func retryDead(alertID: String?, channel: String?, at now: Double) throws -> [DeliveryItem] {
        try pool.write { db in
            var filter = "1"
            var args: StatementArguments = [now]
            if let alertID { filter += " AND d.alert_id = ?"; args += [alertID] }
            if let channel { filter += " AND d.channel = ?"; args += [channel] }
            let rows = try Row.fetchAll(db, sql: """
                SELECT a.seq, a.id, a.subject, d.channel, 0 AS attempts, 0 AS not_before, ? AS queued_at
                FROM dead_letter d JOIN alert a ON a.id = d.alert_id WHERE \(filter) ORDER BY a.seq
                """, arguments: args)
            for row in rows {
                let key: StatementArguments = [row["id"] as String, row["channel"] as String]
                try db.execute(sql: "DELETE FROM dead_letter WHERE alert_id = ? AND channel = ?", arguments: key)
                try db.execute(sql: "INSERT OR IGNORE INTO outbox (alert_id, channel, attempts, not_before, queued_at) VALUES (?, ?, 0, 0, ?)",
                               arguments: key + [now])
            }
            return rows.map(Self.item)
        }
    }

    /// Deliveries, newest first, filtered by state, subject and alert id.
    public func deliveries(state: DeliveryState?, subject: String? = nil, alertID: String? = nil, limit: Int = 100) throws -> [DeliveryRecord] {
        try pool.read { db in
            var parts: [String] = []
            if state == nil || state == .pending {
                parts.append("SELECT o.alert_id AS alert_id, o.channel AS channel, 'pending' AS state, o.attempts AS attempts, o.last_status AS status, o.last_error AS detail, o.not_before AS at FROM outbox o")
            }
            if state == nil || state == .delivered {
                parts.append("SELECT alert_id, channel, 'delivered' AS state, attempts, status, NULL AS detail, delivered_at AS at FROM delivered")
            }
            if state == nil || state == .dead {
                parts.append("SELECT alert_id, channel, 'dead' AS state, attempts, status, reason AS detail, dead_at AS at FROM dead_letter")
            }
            var filter = "1"
            var args: StatementArguments = []
            if let subject { filter += " AND a.subject = ?"; args += [subject] }
            if let alertID { filter += " AND a.id = ?"; args += [alertID] }
            args += [limit]
            let rows = try Row.fetchAll(db, sql: """
                SELECT d.*, a.subject, a.kind, a.emitted_at FROM (\(parts.joined(separator: " UNION ALL "))) d
                JOIN alert a ON a.id = d.alert_id WHERE \(filter) ORDER BY a.seq DESC, d.channel LIMIT ?
                """, arguments: args)
            return rows.map { row in
                DeliveryRecord(alertID: row["alert_id"], channel: row["channel"],
                               state: DeliveryState(rawValue: row["state"]) ?? .pending, attempts: row["attempts"],
                               status: row["status"], detail: row["detail"], at: row["at"], subject: row["subject"],
                               kind: row["kind"], emittedAt: row["emitted_at"])
            }
        }
    }

    /// Dead letters kept (the operator's metrics).
    public func deadLetterCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM dead_letter") ?? 0 }
    }

    /// Retention: alerts emitted before `cutoff` whose deliveries are all settled are deleted, with their history.
    @discardableResult
    public func trimAlerts(emittedBefore cutoff: Double) throws -> Int {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM alert WHERE emitted_at < ? AND id NOT IN (SELECT alert_id FROM outbox)", arguments: [cutoff])
            return db.changesCount
        }
    }

    private static func item(_ row: Row) -> DeliveryItem {
        DeliveryItem(sequence: row["seq"], alertID: row["id"], channel: row["channel"], subject: row["subject"],
                     attempts: row["attempts"], notBefore: row["not_before"], queuedAt: row["queued_at"])
    }
}
