// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for the parsers that read what peers and operators send (see FUZZING.md).
// Built only by scripts/fuzz.sh, in release mode with -sanitize=fuzzer,address. To stay cheap on
// two cores it does not depend on the whole Canary package (NIO, BoringSSL, GRDB): `Sources/CanaryCore`
// is a symlink to the real module, and `Sources/CanaryDaemon` links just the daemon's parsing files
// (configuration, control request, ingest session), so the code fuzzed is the code shipped.
let fuzzers = ["fuzz-ingest", "fuzz-directive", "fuzz-config", "fuzz-control", "fuzz-retry-after"]

let package = Package(
    name: "CanaryFuzz",
    dependencies: [
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        .target(name: "CanaryCore"),
        .target(name: "CanaryDaemon", dependencies: ["CanaryCore", .product(name: "TOMLKit", package: "TOMLKit")]),
        // libFuzzer's entry point, `LLVMFuzzerRunDriver`, declared for Swift.
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzDriver", dependencies: ["CFuzzerDriver"]),
    ] + fuzzers.map { name in
        .executableTarget(
            name: name,
            dependencies: ["CanaryCore", "CanaryDaemon", "FuzzDriver"],
            path: "Targets/\(name)",
            // ld.gold cannot link libFuzzer's archive with Swift's renamed entry point; lld can (it ships with Swift).
            linkerSettings: [.unsafeFlags(["-use-ld=lld"])]
        )
    }
)

for target in package.targets {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    target.swiftSettings = settings
}
