// swift-tools-version:6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "dsbuild",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "dsbuild", targets: ["dsbuild"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // C system libraries (Debian -dev packages), with shims where Swift cannot call C directly.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CJPEG", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CWebP", pkgConfig: "libwebp", providers: [.apt(["libwebp-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        // libjpeg/libpng report errors by longjmp; Swift cannot setjmp, so decode/encode live in a tiny C target.
        .target(
            name: "CImageShims",
            dependencies: ["CJPEG", "CPNG"],
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16")]),
        // Image probing, metadata, decoding, encoding, resampling, pHash: pure functions over bytes and files.
        .target(
            name: "Imaging",
            dependencies: ["CJPEG", "CPNG", "CWebP", "CLibXML2", "CImageShims"],
            // Pixel loops (resampling, pHash, pixel analysis) are ~30× slower unoptimised: the debug build the
            // tests run would spend most of its time resizing images for eval and shards.
            swiftSettings: upcoming + [.unsafeFlags(["-O"], .when(configuration: .debug))]),

        // The shared core: workspace, manifest, records, recipe, progress, stage runner.
        .target(
            name: "Dataset",
            dependencies: [
                "Imaging",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: upcoming),
        // The libcurl layer: multi loop, engine, retries, rate limiter, address policy. Above Dataset (it uses its
        // redactor, storage errors, progress line and version); Dataset does not use it.
        .target(
            name: "HTTP",
            dependencies: ["Dataset", "CCurl", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: upcoming),
        .target(name: "Collect", dependencies: ["Dataset", "HTTP", "Imaging", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"), "CLibXML2"], swiftSettings: upcoming),
        .target(name: "Filter", dependencies: ["Dataset", "Imaging", .product(name: "GRDB", package: "GRDB.swift")], swiftSettings: upcoming),
        .target(name: "Generate", dependencies: ["Dataset", "HTTP", "Imaging", "CSpawn", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")], swiftSettings: upcoming),
        .target(name: "Train", dependencies: ["Dataset", "Imaging", "CZlib", "CZstd", .product(name: "GRDB", package: "GRDB.swift"),
                                             .product(name: "Crypto", package: "swift-crypto"), .product(name: "Yams", package: "Yams"),
                                             .product(name: "Logging", package: "swift-log")], swiftSettings: upcoming),
        // The static HTML report, with thumbnails made by Imaging.
        .target(name: "Report", dependencies: ["Dataset", "Imaging", .product(name: "GRDB", package: "GRDB.swift")], swiftSettings: upcoming),
        // Human review decisions: accept/reject/relabel images, accept/reject/edit texts, undo, export/import.
        .target(name: "Review", dependencies: ["Dataset", "Imaging", .product(name: "GRDB", package: "GRDB.swift")], swiftSettings: upcoming),
        // The loopback web app of `dsbuild review` (Hummingbird 2): token-guarded pages and POST actions over Review.
        .target(name: "ReviewServer", dependencies: ["Review", "Dataset", "Imaging", .product(name: "GRDB", package: "GRDB.swift"),
                                                    .product(name: "Hummingbird", package: "hummingbird"),
                                                    .product(name: "Crypto", package: "swift-crypto"),
                                                    .product(name: "Logging", package: "swift-log")], swiftSettings: upcoming),
        // SIGINT/SIGTERM to a pipe: a sigaction handler may only do async-signal-safe work, which Swift cannot promise.
        .target(name: "CSignals"),
        // fork + PR_SET_PDEATHSIG + a new process group before exec: a child server that dies with dsbuild, even on kill -9.
        .target(name: "CSpawn"),
        // Release-mode benchmark driver for bench/filter (probe + pHash throughput).
        .executableTarget(name: "BenchFilter", dependencies: ["Imaging"], swiftSettings: upcoming),
        .executableTarget(
            name: "dsbuild",
            dependencies: [
                "Dataset", "Imaging", "Collect", "Filter", "Generate", "Train", "Report", "Review", "ReviewServer", "CSignals",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming),

        // Test helpers shared by several test targets: loopback servers, image factories, fixtures.
        .target(name: "_DSBuildTestSupport", dependencies: ["Dataset", "Imaging", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")], swiftSettings: upcoming),

        .testTarget(
            name: "ImagingTests", dependencies: ["Imaging", "_DSBuildTestSupport"],
            exclude: ["Fixtures"],  // read through #filePath; the generator script is not a resource
            swiftSettings: upcoming),
        .testTarget(name: "DatasetTests", dependencies: ["Dataset", "_DSBuildTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "Dataset", "_DSBuildTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "CollectTests", dependencies: ["Collect", "Dataset", "HTTP", "Imaging", "_DSBuildTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "FilterTests", dependencies: ["Filter", "Dataset", "Imaging", "_DSBuildTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "GenerateTests", dependencies: ["Generate", "Dataset", "Imaging", "_DSBuildTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "TrainTests", dependencies: ["Train", "Dataset", "Imaging", "_DSBuildTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "CLITests", dependencies: ["Dataset", "Imaging", "Collect", "Filter", "Generate", "Train", "_DSBuildTestSupport"], swiftSettings: upcoming),
        .testTarget(name: "ReviewTests", dependencies: ["Review", "ReviewServer", "Dataset", "Imaging", "_DSBuildTestSupport",
                                                      .product(name: "GRDB", package: "GRDB.swift")],
                    exclude: ["Browser"],  // the Selenium script, run by the browser test through the interop venv
                    swiftSettings: upcoming),
    ]
)
