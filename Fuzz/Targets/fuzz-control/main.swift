import CanaryDaemon
import Foundation
import FuzzDriver

// The control socket's request decoder: one JSON line from a peer (an administrator's client, or
// anything that reached the socket). A request that decodes survives a round trip unchanged.

runFuzzer { data, count in
    let line = String(decoding: fuzzBytes(data, count), as: UTF8.self)
    guard let request = ControlRequest.decode(line: line) else { return 0 }
    let encoded = String(decoding: (try? JSONEncoder().encode(request)) ?? Data(), as: UTF8.self)
    fuzzCheck(ControlRequest.decode(line: encoded) == request, "round trip changed \(line.prefix(200)) into \(encoded.prefix(200))")
    return 0
}
