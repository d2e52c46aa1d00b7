import CFuzzerDriver
import Foundation

/// Runs libFuzzer with `target` as the function under test, passing the process's arguments on
/// (`-runs=`, `-max_total_time=`, corpus directories, ...), and exits with libFuzzer's status.
///
/// The Swift executable keeps its own `main` (SwiftPM renames and links it), so instead of defining
/// `LLVMFuzzerTestOneInput` the target calls libFuzzer's driver explicitly.
public func runFuzzer(_ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, target))
}

/// The input as bytes (empty for a null pointer).
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ count: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: count > 0 ? data : nil, count: count)
}

/// A property the target checks failed: crash, so libFuzzer saves the input.
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz invariant violated: \(message())") }
}
