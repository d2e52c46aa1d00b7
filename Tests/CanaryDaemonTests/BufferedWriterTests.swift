import CanaryCore
import Foundation
import Testing
@testable import CanaryDaemon

/// `BufferedWriter` writes numbers straight into its buffer, byte for byte what string interpolation
/// gives, also when a number or a string lands across a flush.
@Suite struct BufferedWriterTests {
    @Test func numbersAndStringsAcrossFlushes() throws {
        let path = TestSupport.temporaryFile("writer.txt")
        var expected = ""
        do {
            let w = try BufferedWriter(path: path)
            let values: [Double] = [0, -0.0, 1, 0.1, -2.5e-7, 1e16, .nan, .infinity, 1_767_225_600, 123.456, -9_007_199_254_740_994]
            for (i, v) in values.enumerated() {
                w.write(v)
                w.write(byte: UInt8(ascii: ","))
                w.writeNumber(v.isFinite ? v : 0)
                w.write(byte: UInt8(ascii: ","))
                w.write(Int64(i) - 5)
                w.write(",subject-\(i)\n")
                expected += "\(v),\(AlertJSON.number(v.isFinite ? v : 0)),\(Int64(i) - 5),subject-\(i)\n"
            }
            w.write(Int64.min)
            w.write(Int64.max)
            expected += "\(Int64.min)\(Int64.max)"
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == expected)
    }

    @Test func aTinyBufferFlushesAsItGoes() throws {
        let path = TestSupport.temporaryFile("tiny.txt")
        var expected = ""
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        do {
            let w = BufferedWriter(fd: fd, capacity: 3)
            for i in 0..<500 {
                let v = Double(i) / 7
                w.write(v)
                w.write(" \(i) ")
                expected += "\(v) \(i) "
            }
        }
        close(fd)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == expected)
    }
}
