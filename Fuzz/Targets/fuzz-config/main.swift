import CanaryCore
import CanaryDaemon
import Foundation
import FuzzDriver

// The TOML configuration loader: what `canaryctl check-config`, start and `systemctl reload` run.
// Any text either loads or is refused with a ConfigError naming a key; nothing traps.

runFuzzer { data, count in
    let text = String(decoding: fuzzBytes(data, count), as: UTF8.self)
    switch Result(catching: { () throws(ConfigError) -> CanaryConfiguration in try CanaryConfiguration.parse(text) }) {
    case .success(let configuration):
        // What loaded once loads the same again.
        fuzzCheck((try? CanaryConfiguration.parse(text)) == configuration, "parse is not deterministic")
    case .failure(let error):
        _ = "\(error)"
    }
    return 0
}
