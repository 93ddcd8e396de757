import Foundation
// swift-tools-version:6.0
import PackageDescription

// The hot path crosses modules (Pipeline → StreamReassembly → PacketDecoding) through generics;
// full cross-module optimisation lets the compiler specialise them (measured in scripts/bench).
// Swift's dynamic exclusivity checks stay on in every build: the packet path holds no class state by
// construction — a packet touches `PacketPath`, the reader's `Dealer` and the flow table's slots and
// streams, values reached once per batch — so the checks left fall where decoders keep per-flow state
// by reference on purpose (`FlowState`, `Sink`, the analyzers: a decoder updates its flow while a
// half-stream delivers to it). There they cost 3 % of a 1-worker run and 4 % with 2 workers (README
// "Benchmark"); turning them off would trade memory safety on hostile input for that.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

// Builds and is tested on Linux (Debian) only: libpcap, Glibc, network namespaces. No other platform is claimed.
// One target per stage of the data's path (see docs/architecture.md "Architecture").
// Only PacketCapture imports CPcap; everything downstream is tested from bytes.
let package = Package(
    name: "StratumSniff",
    products: [
        .executable(name: "stratumsniff", targets: ["stratumsniff"]),
        .executable(name: "sniffgen", targets: ["sniffgen"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // DER for the certificate names of TLS ≤ 1.2.
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // The embedded history (SQLite, WAL, migrations) behind `live`, `analyze --store` and `report`.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // Deque: every FIFO (the host table's activity queues, closing flows, the name cache, output queues).
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        // Diagnostics with levels (--log-level), one handler deciding the stderr / journald format.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Prometheus text exposition for `live --metrics` (counters, gauges, the format's escaping rules).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // YAML for the config files (`--config`): the format Suricata's operators already write; Yams is
        // libyaml underneath (a small C library), where TOMLKit would compile toml++ (C++) into every build
        // and swift-configuration brings a provider framework and service lifecycle this CLI does not use.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2")
    ],
    targets: [
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        .target(name: "PacketCapture", dependencies: ["CHints", "CPcap", "PacketDecoding"]),
        // Compiler hints Swift cannot spell (a cache prefetch for the flow table): one header, no library.
        .systemLibrary(name: "CHints"),
        // libpq, the PostgreSQL project's own client: the fleet's central store speaks it, so `--store`
        // takes every connection string, variable and file `psql` does. Only PostgresClient imports it.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(name: "PostgresClient", dependencies: ["CLibPQ"]),
        // OpenSSL's libcrypto for the MD5 and SHA-256 of the JA3 / JA4 TLS fingerprints (no cryptography
        // compiled here: swift-crypto would build a BoringSSL of its own). Only Digests imports it.
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(name: "Digests", dependencies: ["CLibCrypto"]),
        // OpenSSL's libssl for the probe's TLS client (Debian's, already linked through libcrypto's
        // package: no second TLS stack compiled here). Only ProbeClient imports it.
        .systemLibrary(
            name: "CLibSSL",
            pkgConfig: "libssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // Asking a suspected server whether it is a pool: what is sent, and how answers read (no I/O).
        .target(
            name: "Probing",
            dependencies: ["Coins", "CryptoP2P", "Detection", "Digests", "HTTP", "JSON", "Stratum", "TLS"]),
        // The probe's connections: sockets through OS, TLS through CLibSSL, every wait bounded.
        .target(name: "ProbeClient", dependencies: ["CLibSSL", "OS", "Probing"]),
        // The one lock type (Mutex inside; made visible to ThreadSanitizer in the TSan build).
        .target(name: "Locking"),
        // Checked and saturating conversions for every number an adversary can choose.
        .target(name: "SafeNumbers", swiftSettings: hotPath),
        .target(name: "PacketDecoding", dependencies: ["Locking", "SafeNumbers"], swiftSettings: hotPath),
        .target(
            name: "StreamReassembly",
            dependencies: ["CHints", "PacketDecoding", .product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: hotPath),
        .target(name: "JSON", dependencies: ["SafeNumbers"], swiftSettings: hotPath),
        // Everything known about coins (names, wallet shapes, algorithms, host keywords, hashrate units): one table.
        .target(name: "Coins"),
        .target(
            name: "Stratum", dependencies: ["Coins", "JSON", "PacketDecoding", "SafeNumbers"], swiftSettings: hotPath),
        .target(name: "PoolIntel", dependencies: ["PacketDecoding"]),
        .target(name: "DNS", dependencies: ["PacketDecoding"], swiftSettings: hotPath),
        .target(
            name: "TLS",
            dependencies: ["PacketDecoding", "Digests", .product(name: "SwiftASN1", package: "swift-asn1")],
            swiftSettings: hotPath),
        .target(name: "HTTP", dependencies: ["SafeNumbers"], swiftSettings: hotPath),
        .target(name: "CryptoP2P", swiftSettings: hotPath),
        // SOCKS4/4a/5 handshakes: the pool's name in a proxy request.
        .target(name: "Proxy", dependencies: ["PacketDecoding"], swiftSettings: hotPath),
        .target(
            name: "Detection",
            dependencies: [
                "Stratum", "PacketDecoding", "PoolIntel", "SafeNumbers",
                .product(name: "DequeModule", package: "swift-collections")
            ]),
        .target(
            name: "Pipeline",
            dependencies: [
                "Locking", "PacketDecoding", "StreamReassembly", "Stratum", "Detection", "DNS", "TLS", "HTTP",
                "CryptoP2P", "Proxy", "PoolIntel", "SafeNumbers",
                .product(name: "DequeModule", package: "swift-collections")
            ], swiftSettings: hotPath),
        .target(
            name: "Reporting",
            dependencies: ["Detection", "Digests", "Locking", "PacketDecoding", "Probing", "SafeNumbers"]),
        .target(
            name: "Store",
            dependencies: [
                "Locking", "Detection", "PacketDecoding", "SafeNumbers", .product(name: "GRDB", package: "GRDB.swift"),
                "PostgresClient"
            ]),
        // The one thin place for system calls outside libpcap (files, sockets, poll, signals, privileges, clocks).
        .target(name: "OS", dependencies: ["CMalloc", "PacketDecoding"]),
        .systemLibrary(name: "CMalloc"),
        .target(
            name: "Sensor",
            dependencies: [
                "Locking", "OS", "PacketCapture", "PacketDecoding", "Pipeline", "Detection", "Reporting", "PoolIntel",
                "Store", "SafeNumbers",
                "Probing", "ProbeClient",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus")
            ]),
        .target(name: "TrafficGen", dependencies: ["PacketDecoding", "CryptoP2P"]),
        .executableTarget(
            name: "stratumsniff",
            dependencies: [
                "Locking", "PacketCapture", "Pipeline", "Reporting", "Detection", "PacketDecoding", "StreamReassembly",
                "Sensor", "PoolIntel", "Store", "SafeNumbers",
                "OS", "Probing", "ProbeClient", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams")
            ]
        ),
        .executableTarget(
            name: "sniffgen",
            dependencies: ["TrafficGen", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "PacketDecodingTests", dependencies: ["PacketDecoding", "TrafficGen"]),
        .testTarget(name: "PacketCaptureTests", dependencies: ["PacketCapture", "TrafficGen"]),
        .testTarget(name: "StreamReassemblyTests", dependencies: ["StreamReassembly", "PacketDecoding"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "StratumTests", dependencies: ["Stratum", "JSON", "PacketDecoding", "TrafficGen"]),
        .testTarget(
            name: "ProtocolTests",
            dependencies: [
                "DNS", "TLS", "HTTP", "CryptoP2P", "Proxy", "Stratum", "JSON", "PacketDecoding", "TrafficGen"
            ]),
        .testTarget(
            name: "SensorTests",
            dependencies: [
                "Sensor", "OS", "PacketCapture", "PacketDecoding", "Pipeline", "Detection", "Store", "Stratum"
            ]),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "Reporting", "Detection", "Pipeline", "PacketDecoding", "Sensor", "TrafficGen"]),
        .testTarget(name: "PoolIntelTests", dependencies: ["PoolIntel", "PacketDecoding"]),
        .testTarget(
            name: "ProbingTests", dependencies: ["Coins", "Digests", "Probing", "ProbeClient", "JSON", "Stratum"]),
        .testTarget(
            name: "DetectionTests", dependencies: ["Coins", "Detection", "Stratum", "PacketDecoding", "Reporting"]),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "Pipeline", "PoolIntel", "PacketDecoding", "StreamReassembly", "Detection", "Reporting", "TrafficGen"
            ]),
        // The executables too: `swift test` then builds the very binaries the end-to-end tests run.
        .testTarget(name: "EndToEndTests", dependencies: ["TrafficGen", "PacketDecoding", "stratumsniff", "sniffgen"])
    ]
)

// libFuzzer harnesses (scripts/fuzz): only with STRATUMSNIFF_FUZZ=1, because the target has no main of
// its own (libFuzzer provides it) and links only with -sanitize=fuzzer.
if ProcessInfo.processInfo.environment["STRATUMSNIFF_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "fuzz-stratumsniff",
            dependencies: [
                "PacketCapture", "PacketDecoding", "Pipeline", "Reporting", "Detection", "Stratum", "JSON", "DNS",
                "TLS", "HTTP", "CryptoP2P",
                "PoolIntel", "Probing", "Proxy"
            ],
            path: "Fuzz"
        ))
}
