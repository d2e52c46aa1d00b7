import ArgumentParser
import CanaryCore
import CanaryDaemon
import Foundation

/// `canaryctl`: the companion command line of canaryd.
@main
struct CanaryCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canaryctl",
        abstract: "Companion tool of canaryd: send data, replay and backtest files, check configuration.",
        version: CanaryCoreVersion.string,
        subcommands: [SendCommand.self, ConsentCommand.self, AlertsCommand.self, BaselineCommand.self, ReportCommand.self, MetricsCommand.self, ReloadCommand.self, ImportCommand.self, SubjectCommand.self, ReplayCommand.self, BacktestCommand.self, CheckConfigCommand.self]
    )
}
