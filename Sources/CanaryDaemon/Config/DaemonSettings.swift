import CanaryCore

/// The `[daemon]` section: where canaryd listens, who may write to it, where alerts go.
public struct DaemonSettings: Sendable, Equatable {
    /// Ingest socket path when canaryd binds it itself (no socket activation).
    public var socketPath = "/run/canary/ingest.sock"
    /// Permission bits for a socket canaryd binds itself.
    public var socketMode: UInt16 = 0o660
    /// Peers (by SO_PEERCRED) allowed to send, as user names or numeric uids. canaryd's own user always may.
    public var allowUsers: [String] = ["root"]
    /// Peers whose primary or supplementary group is one of these (names or gids) may send. The
    /// feeders' group `canary-feed` is not `canary`, which reads the configuration.
    public var allowGroups: [String] = ["canary-feed"]
    /// Lines longer than this are refused and skipped to the next newline.
    public var maxLineBytes = 64 * 1024
    /// Ingest connections open at once; one more hears `ERR 0 too-many-connections` and is closed.
    public var maxConnections = 1024
    /// Distinct subjects one ingest connection may send; rows of another get `ERR <line> too-many-subjects`.
    public var maxSubjectsPerConnection = 200_000
    /// An ingest connection that sends nothing for this long, in seconds, hears `ERR 0 idle-timeout` and
    /// is closed (time spent waiting for the engine does not count); nil: never.
    public var idleTimeoutSeconds: Double? = 900
    /// Alerts to journald: "auto" (when its socket is present), "on", or "off".
    public var journal = "auto"
    /// Alerts are also appended here as JSON Lines (and here only, plus standard error, when journald is off or unreachable).
    public var alertLog: String?
    /// How often STATUS= is refreshed, in seconds.
    public var statusIntervalSeconds = 5.0
    /// On stop, how long connections may take to finish the lines in flight, in seconds.
    public var drainTimeoutSeconds = 10.0
    /// How often the clock is checked for streams that went quiet (`engine.max_lateness`) and for gaps
    /// of raw metrics, in seconds. Days of streams that keep sending close by their own data at once.
    public var maxCloseIntervalSeconds = 60.0
    /// A connection that stays open hears `PROGRESS line=L accepted=N rejected=M` this often (in
    /// seconds) while it has newly evaluated rows, after they are committed; nil: only the final `OK`.
    public var progressIntervalSeconds: Double? = 1

    /// The control socket (consent management): owner-only, checked by peer credentials.
    public var controlSocketPath = "/run/canary/control.sock"
    /// Besides root and canaryd's own user, members of these groups may use the control socket.
    public var adminGroups: [String] = []
    /// The state database (consent ledger, audit trail, evaluation state).
    public var statePath = "/var/lib/canary/state.sqlite"
    /// Alerts are committed to the outbox (and so delivered) at most this often, in seconds. 0: group
    /// commit, at once when no commit runs, else with the next (each holds the alerts and their
    /// subjects' state only, so it stays small under heavy ingest).
    public var alertCommitSeconds = 0.0
    /// How often the evaluation state is saved while running (and always on a graceful stop), in seconds.
    public var snapshotIntervalSeconds = 60.0
    /// Grants written in the configuration, applied at start to subjects the ledger does not know.
    public var consentSeeds: [ConsentSeed] = []

    /// Journal entries name subjects by pseudonymous token ("token") or, for single-user set-ups, by id ("raw").
    public var journalSubject = "token"
    /// The pseudonym key (a systemd credential `pseudonym-key` takes precedence); generated when missing.
    public var pseudonymKeyPath = "/var/lib/canary/pseudonym.key"

    /// Named webhooks (`[webhooks.<name>]`), each its own consent scope `alert:webhook:<name>`.
    public var webhooks: [WebhookSettings] = []
    /// At most this many webhook requests at a time, over all webhooks.
    public var maxConcurrentDeliveries = 8

    public init() {}
}
