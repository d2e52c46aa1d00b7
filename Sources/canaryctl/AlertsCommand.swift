import ArgumentParser
import CanaryCore
import CanaryDaemon
import Foundation

/// `canaryctl alerts`: the alert outbox — what is owed, delivered and dead-lettered — through canaryd's control socket.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Inspect and re-drive alert deliveries (canaryd must be running).",
        discussion: """
        Every alert is delivered from a durable outbox to each channel it was emitted for (journal, \
        webhook:<name>). A delivery is pending (owed, possibly waiting for a retry), delivered, or dead \
        (given up: a permanent HTTP status, max_age, consent withdrawn, or its webhook removed).
        """,
        subcommands: [List.self, Show.self, Retry.self, Dead.self]
    )

    static func print(_ rows: [StateStore.DeliveryRecord]) {
        for r in rows {
            let status = r.status.map { "HTTP \($0)" } ?? "-"
            let at = r.at.map { $0.isFinite && $0 > 0 ? ConsentCommand.format($0) : "now" } ?? "-"
            Swift.print("\(r.alertID)\t\(r.channel)\t\(r.state.rawValue)\t\(r.kind)\temitted \(ConsentCommand.format(r.emittedAt))"
                        + "\tattempts \(r.attempts)\t\(status)\t\(at)\t\(r.detail ?? "")")
        }
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deliveries, newest first: alert id, channel, state, kind, emitted, attempts, last status, when, detail.")
        @OptionGroup var connection: ConsentCommand.Connection
        @Option(name: .long, help: "Only this state: pending, delivered or dead.") var state: String?
        @Option(name: .long, help: "Only this subject.") var subject: String?
        @Option(name: .long, help: "At most this many rows.") var limit = 100
        @Flag(name: .long, help: "JSON instead of tab-separated lines.") var json = false

        func run() throws {
            let r = try connection.send(ControlRequest(cmd: .alertsList, subject: subject, state: state, limit: limit))
            if json { try AlertsCommand.printJSON(r.deliveries ?? []) } else { AlertsCommand.print(r.deliveries ?? []) }
        }
    }

    struct Dead: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The dead letters: deliveries given up, with the reason.")
        @OptionGroup var connection: ConsentCommand.Connection
        @Option(name: .long, help: "Only this subject.") var subject: String?
        @Option(name: .long, help: "At most this many rows.") var limit = 100
        @Flag(name: .long, help: "JSON instead of tab-separated lines.") var json = false

        func run() throws {
            let r = try connection.send(ControlRequest(cmd: .alertsList, subject: subject, state: "dead", limit: limit))
            if json { try AlertsCommand.printJSON(r.deliveries ?? []) } else { AlertsCommand.print(r.deliveries ?? []) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One alert in full, and each of its deliveries.")
        @OptionGroup var connection: ConsentCommand.Connection
        @Argument(help: "Alert id (the webhook-id receivers see).") var id: String

        func run() throws {
            let r = try connection.send(ControlRequest(cmd: .alertsShow, alert: id))
            if let alert = r.alertBody { Swift.print(AlertJSON.encode(alert)) }
            AlertsCommand.print(r.deliveries ?? [])
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue dead letters again (fresh attempts and max_age) and make waiting retries due now.")
        @OptionGroup var connection: ConsentCommand.Connection
        @Argument(help: "Alert id; every dead letter when omitted (with --all).") var id: String?
        @Option(name: .long, help: "Only this channel, e.g. webhook:clinic.") var channel: String?
        @Flag(name: .long, help: "Every dead letter (and every waiting retry).") var all = false

        func validate() throws {
            if id == nil && !all && channel == nil { throw ValidationError("name an alert id, a --channel, or --all") }
        }

        func run() throws {
            let r = try connection.send(ControlRequest(cmd: .alertsRetry, alert: id, channel: channel))
            Swift.print("requeued=\(r.requeued ?? 0) expedited=\(r.expedited ?? 0)")
        }
    }
}
