import ArgumentParser
import CanaryCore
import CanaryDaemon
import Foundation

/// `canaryctl consent`: the consent ledger, through canaryd's control socket.
struct ConsentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract: "Grant, revoke, list and show consent (canaryd must be running).",
        discussion: """
        Scopes: monitor (data may be ingested and baselined), alert:journal (alerts to the journal and \
        the local alert log), alert:webhook:<name>. Without monitor consent a subject's rows are refused; an \
        alert goes only to the channels consented to at that moment. Every change is audited.
        """,
        subcommands: [Grant.self, Revoke.self, List.self, Show.self]
    )

    struct Connection: ParsableArguments {
        @Option(name: .long, help: "Control socket.")
        var control = "/run/canary/control.sock"

        func send(_ request: ControlRequest) throws -> ControlResponse {
            let response: ControlResponse
            do {
                response = try ControlClient(socketPath: control).send(request)
            } catch {
                FileHandle.standardError.write(Data("canaryctl: \(error)\n".utf8))
                throw ExitCode(2)
            }
            guard response.ok else {
                FileHandle.standardError.write(Data("canaryctl: \(response.error ?? "refused")\n".utf8))
                throw ExitCode(1)
            }
            return response
        }
    }

    static func actor(_ by: String?) -> String {
        by ?? ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "uid \(getuid())"
    }

    static func show(_ grants: [ControlResponse.Grant]) {
        for g in grants {
            let expiry = g.expiresAt.map { "expires \(Self.format($0))" } ?? "no expiry"
            print("\(g.subject)\t\(g.scope)\t\(g.active ? "active" : "inactive")\t\(g.reference)\trecorded by \(g.recordedBy) at \(Self.format(g.grantedAt))\t\(expiry)")
        }
    }

    static func format(_ t: Double) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: Date(timeIntervalSince1970: t))
    }

    struct Grant: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record consent for a subject.")
        @OptionGroup var connection: Connection
        @Argument(help: "Subject id.") var subject: String
        @Option(name: .long, help: "A scope (repeat for several): \(ConsentScope.help).") var scope: [String]
        @Option(name: .long, help: "Consent reference, e.g. the signed form's id.") var ref: String
        @Option(name: .long, help: "Who records it (default: the invoking user).") var by: String?
        @Option(name: .long, help: "Expiry, RFC 3339 (e.g. 2027-01-01T00:00:00Z).") var expires: String?

        func validate() throws {
            for s in scope where ConsentScope(s) == nil { throw ValidationError("unknown scope \(s); expected \(ConsentScope.help)") }
            if let expires, ISO8601DateFormatter().date(from: expires) == nil {
                throw ValidationError("--expires \(expires) is not RFC 3339 (e.g. 2027-01-01T00:00:00Z)")
            }
        }

        func run() throws {
            let expiry = expires.flatMap { ISO8601DateFormatter().date(from: $0)?.timeIntervalSince1970 }
            let r = try connection.send(ControlRequest(cmd: .grant, subject: subject, scopes: scope, reference: ref,
                                                       by: ConsentCommand.actor(by), expires: expiry))
            ConsentCommand.show(r.grants ?? [])
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke consent; with --erase, delete everything held for the subject.")
        @OptionGroup var connection: Connection
        @Argument(help: "Subject id.") var subject: String
        @Option(name: .long, help: "A scope to revoke (repeat for several; default: all).") var scope: [String] = []
        @Flag(name: .long, help: "Also delete everything held for the subject and report what was removed.") var erase = false
        @Option(name: .long, help: "Who revokes (default: the invoking user).") var by: String?

        func run() throws {
            let r = try connection.send(ControlRequest(cmd: .revoke, subject: subject, scopes: scope.isEmpty ? nil : scope,
                                                       by: ConsentCommand.actor(by), erase: erase))
            guard let rev = r.revocation else { return }
            print("revoked: \(rev.scopes.isEmpty ? "nothing was held" : rev.scopes.joined(separator: ", "))")
            if rev.erased {
                print("erased: \(rev.consentRowsDeleted) consent rows; evaluation state (days, baselines, rule states): \(rev.engineStateDeleted ? "deleted" : "none held")")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every grant.")
        @OptionGroup var connection: Connection
        func run() throws {
            ConsentCommand.show(try connection.send(ControlRequest(cmd: .list)).grants ?? [])
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one subject's grants and audit trail.")
        @OptionGroup var connection: Connection
        @Argument(help: "Subject id.") var subject: String
        func run() throws {
            let r = try connection.send(ControlRequest(cmd: .show, subject: subject))
            let grants = r.grants ?? []
            if grants.isEmpty { print("\(subject): no consent held") } else { ConsentCommand.show(grants) }
            // The audit trail names subjects by token only: it outlives an erasure without keeping the id.
            if let token = r.subject { print("token\t\(token)\t(the audit trail's name for \(subject))") }
            for a in r.audit ?? [] {
                print("audit\t\(ConsentCommand.format(a.at))\t\(a.action)\t\(a.scopes)\tby \(a.actor)\t\(a.reference)\t\(a.detail)")
            }
        }
    }
}
