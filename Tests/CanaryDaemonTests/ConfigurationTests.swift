import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

@Suite struct ConfigurationTests {
    @Test(arguments: ["config/canary.toml", "config/sample/canary.toml", "bench/peer.toml"])
    func shippedConfigurationsParse(_ path: String) throws {
        _ = try CanaryConfiguration.load(path: TestSupport.root(path))
    }

    /// Found by `fuzz-config`: a table header starting with anything but a key, or a `}` where an array expects a
    /// value, aborted TOMLKit's parser (assertions in toml++), so `check-config` died of SIGABRT and a reload took
    /// canaryd down. Refused with the line.
    @Test(arguments: ["s=[}", "s = [1, }", "s = [\n # c\n }", "x = [[}]]", "x = { a = [ } }","[#daemon]", "[.engine]", "[=]", "[\n]", "[", "[\r\n", "[[é]]", "[ !x]", "[\u{8F}]", "\u{FEFF}[#x]",
                      "[engine]\ntimezone = \"UTC\"\n\n[#daemon]\n", "x = [\n1,\n]\n[-ok]\n[ #no ]\n"])
    func tomlThatAbortedTheParserIsRefusedWithItsLine(_ text: String) {
        let error = #expect(throws: ConfigError.self) { try CanaryConfiguration.parse(text) }
        #expect(error?.description.contains("TOML syntax error at line") == true, "\(String(describing: error))")
    }

    /// The preflight reads strings, comments, arrays and inline tables as TOML does: no valid document is refused.
    @Test(arguments: ["x = [\n  [ [1] ],\n  [],\n  [ +1 ],\n  [{ a = 1 }],\n]\n", "s = \"\"\"\n[#not a header]\n\"\"\"\n",
                      "t = '''\n[=]\n'''\n", "# [#comment]\n", "[\"quoted\"]\n[ 'lit' ]\n[[arr]]\n[[ arr ]]\n",
                      "a = \"[#x]\" # ] [\n[engine]\n", "a = { b = [ \"]\" ] }\n[ engine ]\n", "\u{FEFF}[engine]\n",
                      "a = [ { b = 1 }, { c = [] } ]\nd = [\n  # }\n  1, # }\n]\ne = [ \"}\", '}' ]\n"])
    func validDocumentsPassThePreflight(_ text: String) {
        #expect(TOMLPreflight.firstAbortingConstruct(text) == nil)
        do {
            _ = try CanaryConfiguration.parse(text)
        } catch {
            #expect(!error.description.contains("TOML syntax error"), "\(error)")
        }
    }

    @Test func documentedDefaultsMatchTheCode() throws {
        // config/canary.toml spells out the defaults; loading it must give the built-in configuration.
        let documented = try CanaryConfiguration.load(path: TestSupport.root("config/canary.toml"))
        #expect(documented == CanaryConfiguration())
    }

    @Test func emptyFileGivesDefaults() throws {
        #expect(try CanaryConfiguration.parse("") == CanaryConfiguration())
    }

    @Test func readsRulesMetricsSubjectsAndDurations() throws {
        let c = try CanaryConfiguration.parse("""
        [engine]
        timezone = "Europe/Oslo"
        close_delay = "90m"
        [rules.steps]
        threshold = 2.5
        persistence = "2/5"
        cusum = false
        [rules.sleep_onset]
        enabled = false
        [metrics.heart_rate]
        mode = "raw"
        [metrics.temp]
        mode = "hour"
        aggregate = "max"
        [subjects.s042]
        timezone = "America/New_York"
        [gaps]
        typing = "off"
        activity = "2d"
        """)
        #expect(c.engine.zones.defaultZone.identifier == "Europe/Oslo")
        #expect(c.engine.closeDelaySeconds == 5400)
        #expect(c.engine.rules["steps"]?.threshold == 2.5)
        #expect(c.engine.rules["steps"]?.persistenceK == 2)
        #expect(c.engine.rules["steps"]?.persistenceN == 5)
        #expect(c.engine.rules["steps"]?.cusumK == nil)
        #expect(c.engine.rules["steps"]?.floorAbsolute == 500, "unset keys keep the feature's default")
        #expect(c.engine.rules["sleep_onset"] == nil)
        #expect(c.engine.metrics["heart_rate"]?.mode == .raw)
        #expect(c.engine.metrics["heart_rate"]?.baseline == .ewma)
        #expect(c.engine.metrics["heart_rate"]?.rule == RuleSettings.rawDefault)
        #expect(c.engine.metrics["temp"]?.aggregate == .max)
        #expect(c.engine.zones.zone(for: "s042").identifier == "America/New_York")
        #expect(c.engine.gapSeconds[.typing] == nil)
        #expect(c.engine.gapSeconds[.activity] == 172_800)
    }

    @Test(arguments: [
        ("[engine]\ntimezon = \"UTC\"", "engine.timezon", "unknown key"),
        ("[engine]\ntimezone = \"Mars/Olympus\"", "engine.timezone", "unknown time zone"),
        ("[rules.sleep_lenght]\nthreshold = 3", "rules.sleep_lenght", "unknown feature"),
        ("[rules.steps]\npersistence = \"5/3\"", "rules.steps.persistence", "k/n"),
        ("[rules.steps]\nthreshold = -1", "rules.steps.threshold", "above zero"),
        ("[rules.steps]\nthreshold = \"high\"", "rules.steps.threshold", "expected a number"),
        ("[rules.steps]\nresolve_below = 5", "rules.steps.resolve_below", "must not exceed threshold"),
        ("[metrics.hr]\nmode = \"weekly\"", "metrics.hr.mode", "expected one of raw, hour, day"),
        ("[metrics.hr]\nmode = \"raw\"\nbaseline = \"robust\"", "metrics.hr.baseline", "ewma"),
        ("[baseline]\nwindow_days = 10\nmin_history_days = 20", "baseline.min_history_days", "must not exceed"),
        ("[gaps]\nsleep = \"soon\"", "gaps.sleep", "duration"),
        ("[composite.x]\nalpha = 0.1", "composite.x.features", "list of features"),
        ("[daemon]\nsocket_mode = \"rw\"", "daemon.socket_mode", "octal"),
    ])
    func refusesBadConfigurationNamingTheKey(_ text: String, _ key: String, _ fragment: String) {
        do {
            _ = try CanaryConfiguration.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.key == key)
            #expect(error.description.contains(fragment), "\(error.description)")
        }
    }

    @Test func syntaxErrorsNameTheLine() {
        do {
            _ = try CanaryConfiguration.parse("[engine]\ntimezone = \n")
            Issue.record("accepted broken TOML")
        } catch {
            #expect(error.description.contains("line 2"), "\(error.description)")
        }
    }
}
