import Foundation

/// `canaryctl`'s side of the control socket: one request, one answer.
public struct ControlClient {
    public let socketPath: String

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    public func send(_ request: ControlRequest) throws -> ControlResponse {
        let fd = try IngestClient.connect(socketPath)
        defer { close(fd) }
        var data = try JSONEncoder().encode(request)
        data.append(UInt8(ascii: "\n"))
        try IngestClient.writeAll(fd, Array(data)[...])
        shutdown(fd, Int32(SHUT_WR))
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            reply.append(contentsOf: buffer[0..<n])
        }
        guard !reply.isEmpty else { throw DaemonError("canaryd gave no answer on \(socketPath)") }
        do {
            return try JSONDecoder().decode(ControlResponse.self, from: Data(reply))
        } catch {
            throw DaemonError("canaryd's answer on \(socketPath) is not understood (\(error)): \(String(decoding: reply.prefix(200), as: UTF8.self))")
        }
    }
}
