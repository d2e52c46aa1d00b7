import CanaryDaemon
import Foundation
import Testing

/// The manual pages (scripts/gen-man.sh): generated from the programs' help and the example
/// configuration, clean under `mandoc -Tlint`, and missing nothing a user can type or configure.
@Suite("Manual pages")
struct ManPageTests {
    /// The three pages, generated once from the debug build into a temporary directory.
    static let pages: Result<[String: String], any Error> = Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("canary-man-\(getpid())").path
        let bin = (DaemonHarness.binary("canaryctl") as NSString).deletingLastPathComponent
        let r = try ProcessRun.run("/bin/bash", [TestSupport.root("scripts/gen-man.sh"), dir, bin])
        guard r.status == 0 else { throw DaemonError("gen-man.sh failed (status \(r.status)): \(r.output)") }
        var out: [String: String] = [:]
        for name in ["canaryctl.1", "canaryd.8", "canary.toml.5"] {
            out[name] = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
        }
        return out
    }

    /// Every command path and every option of canaryctl and canaryd, from their own --help model.
    static func commands(_ tool: String) throws -> [(path: [String], options: [String])] {
        let dump = try ProcessRun.run(DaemonHarness.binary(tool), ["--experimental-dump-help"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(dump.output.utf8)) as? [String: Any])
        var out: [(path: [String], options: [String])] = []
        func walk(_ c: [String: Any], _ path: [String]) {
            let args = (c["arguments"] as? [[String: Any]] ?? []).filter { ($0["shouldDisplay"] as? Bool) ?? true }
            let options = args.compactMap { a -> String? in
                guard let n = a["preferredName"] as? [String: Any], let name = n["name"] as? String,
                      !["help", "version"].contains(name) else { return nil }
                return name
            }
            out.append((path, options))
            for s in c["subcommands"] as? [[String: Any]] ?? [] where (s["commandName"] as? String) != "help" {
                walk(s, path + [s["commandName"] as! String])
            }
        }
        walk(try #require(json["command"] as? [String: Any]), [])
        return out
    }

    @Test func everySubcommandAndOptionHasItsPlaceInThePage() throws {
        let pages = try Self.pages.get()
        for (tool, page) in [("canaryctl", "canaryctl.1"), ("canaryd", "canaryd.8")] {
            let text = try #require(pages[page])
            let commands = try Self.commands(tool)
            #expect(commands.count > (tool == "canaryctl" ? 15 : 0))
            for c in commands {
                if !c.path.isEmpty {
                    #expect(text.contains("\n.Ss \(c.path.joined(separator: " "))\n"), "\(page): no section for \(c.path)")
                }
                for o in c.options {
                    #expect(text.contains("Fl -\(o)"), "\(page): \(c.path) option --\(o) missing")
                }
            }
            #expect(text.contains(".Sh EXIT STATUS") && text.contains(".Sh SEE ALSO") && text.contains(".Sh FILES"))
        }
        // The reload the unit runs is documented on both sides.
        #expect(try #require(pages["canaryctl.1"]).contains("\n.Ss reload\n"))
    }

    /// Every key the configuration reader knows, table by table (asked for by giving it an unknown key:
    /// the refusal lists the known ones), is an item of canary.toml(5) with its default.
    @Test func everyConfigurationKeyIsDocumented() throws {
        let page = try #require(try Self.pages.get()["canary.toml.5"])
        let tables: [(String, String)] = [
            ("daemon", ""), ("state", ""), ("delivery", ""), ("privacy", ""), ("engine", ""), ("baseline", ""),
            ("sleep", ""), ("activity", ""), ("typing", ""), ("gaps", ""), ("rules.steps", ""), ("metrics.default", ""),
            ("metrics.m", ""), ("metrics.m.rule", ""), ("subjects.s", ""),
            ("composite.c", "features = [\"steps\", \"sleep_duration\"]\n"),
            ("webhooks.w", "url = \"http://127.0.0.1:1/x\"\nsecret_file = \"/nonexistent\"\n"),
        ]
        var keys: [String] = []
        for (table, needed) in tables + [("[consent.grant]", "subject = \"s\"\nscopes = [\"monitor\"]\nreference = \"r\"\n")] {
            let text = "[\(table)]\n\(needed)zz_unknown = 1\n"
            do {
                _ = try CanaryConfiguration.parse(text)
                Issue.record("\(table): an unknown key was accepted")
            } catch {
                let list = try #require(error.reason.components(separatedBy: "expected one of: ").last, "\(table): \(error)")
                #expect(error.reason.contains("unknown key"), "\(table): \(error)")
                keys += list.components(separatedBy: ", ").map { "\(table) \($0)" }
            }
        }
        #expect(keys.count > 100)
        // Kept only to be read from old files (documented as such in the example's prose).
        let legacy: Set<String> = ["daemon settle"]
        // An item names its key (with its default: `.It Cm key No = Li value`) or several keys a comment
        // describes together (`.It Cm cusum_k , cusum_h`).
        let documented = Set(page.split(separator: "\n").filter { $0.hasPrefix(".It Cm ") }.flatMap { line in
            line.dropFirst(7).components(separatedBy: " No = ").first!.components(separatedBy: " , ")
        })
        let missing = keys.filter { !legacy.contains($0) && !documented.contains($0.components(separatedBy: " ").last!) }
        #expect(missing.isEmpty, "canary.toml(5) does not document: \(missing.joined(separator: "; "))")
        // The top-level tables, each a section.
        for table in ["daemon", "state", "delivery", "privacy", "engine", "baseline", "sleep", "activity", "typing", "gaps"] {
            let present = page.contains("\n.Ss [\(table)]\n")
            #expect(present, "no section [\(table)]")
        }
        let reload = page.contains(".Sh RELOAD")
        #expect(reload)
    }
}
