import ArgumentParser
import CanaryDaemon

/// `canaryctl metrics`: the running canaryd's metrics, as a Prometheus scrape would see them.
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print canaryd's metrics in the Prometheus text format (canaryd must be running).",
        discussion: """
        The same text canaryd-metrics.socket serves at http://127.0.0.1:9464/metrics: rows accepted, \
        rejected (by format and reason), late and duplicate; connections; subjects and series tracked; \
        days closed; alerts by kind; deliveries by channel and outcome; the outbox; commit latency and \
        evaluation lag; reloads; the build. No subject ids and no health values.
        """
    )
    @OptionGroup var connection: ConsentCommand.Connection

    func run() throws {
        let r = try connection.send(ControlRequest(cmd: .metrics))
        guard let text = r.metrics else { throw ExitCode(1) }
        print(text, terminator: "")
    }
}
