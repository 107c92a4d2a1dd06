// swift-tools-version:6.0
import PackageDescription

/// System libraries are linked through module maps so the hot paths (inflate, zstd, CRC32,
/// XXH3, digests) run in process instead of through pipes to external tools.
let package = Package(
    name: "LiteServer",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ocs-restore-img", targets: ["ocs-restore-img"]),
        .executable(name: "ocs-cast", targets: ["ocs-cast"]),
        .executable(name: "ocs-bt", targets: ["ocs-bt"]),
        .executable(name: "ocs-netboot", targets: ["ocs-netboot"]),
        .executable(name: "ocs-live-feed-img", targets: ["ocs-live-feed-img"]),
        .executable(name: "ocs-live-get-img", targets: ["ocs-live-get-img"]),
        .executable(name: "liteserver-fuzz", targets: ["liteserver-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.70.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CXXHash", path: "Sources/CXXHash", providers: [.apt(["libxxhash-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", providers: [.apt(["libssl-dev"])]),
        .target(name: "CLinuxBlock", path: "Sources/CLinuxBlock"),

        .target(name: "ClonezillaImage", dependencies: ["COpenSSL"]),
        .target(name: "Compression", dependencies: ["CZlib", "CZstd"]),
        .target(name: "Partclone", dependencies: ["CZlib", "CXXHash"]),
        .target(name: "Restore", dependencies: ["ClonezillaImage", "Compression", "Partclone", "CLinuxBlock"]),
        .target(name: "NetworkAddress"),
        .target(name: "UDPCast", dependencies: ["NetworkAddress"]),
        .target(name: "DHCP", dependencies: ["NetworkAddress"]),
        .target(name: "TFTP", dependencies: ["NetworkAddress"]),
        .target(name: "NetBoot", dependencies: ["NetworkAddress"]),
        .systemLibrary(name: "CLZMA", path: "Sources/CLZMA", providers: [.apt(["liblzma-dev"])]),
        .target(name: "Feeder", dependencies: ["CLZMA", "ClonezillaImage", "NetworkAddress"]),
        .target(name: "BitTorrent", dependencies: ["ClonezillaImage", "Partclone", "Restore"]),
        .target(name: "NetworkNIO", dependencies: [
            "NetworkAddress",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(name: "NetBootNIO", dependencies: [
            "DHCP", "TFTP", "NetBoot", "NetworkNIO",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(name: "FeederNIO", dependencies: [
            "Feeder", "NetBootNIO", "NetworkNIO", "UDPCastNIO", "UDPCast", "ClonezillaImage",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(name: "UDPCastNIO", dependencies: [
            "UDPCast", "NetworkNIO",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(name: "BitTorrentNIO", dependencies: [
            "BitTorrent", "ClonezillaImage", "NetworkNIO",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        .executableTarget(name: "ocs-bt", dependencies: [
            "BitTorrentNIO",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        .executableTarget(name: "ocs-cast", dependencies: [
            "UDPCastNIO",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        .executableTarget(name: "ocs-netboot", dependencies: [
            "NetBootNIO",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        .target(name: "GetImg", dependencies: ["CLZMA"]),
        .target(name: "GetImgNIO", dependencies: [
            "GetImg", "Restore", "UDPCast", "UDPCastNIO", "NetworkNIO", "BitTorrent", "BitTorrentNIO",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        .testTarget(name: "GetImgTests", dependencies: ["GetImg", "Feeder", "TestSupport"]),
        .executableTarget(name: "ocs-live-get-img", dependencies: [
            "GetImg", "GetImgNIO", "Restore", "NetworkNIO",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "ocs-live-feed-img", dependencies: [
            "Feeder", "FeederNIO", "NetBootNIO", "NetBoot", "NetworkNIO", "ClonezillaImage", "Restore", "BitTorrentNIO", "BitTorrent", "DHCP",
            .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        .executableTarget(name: "ocs-restore-img", dependencies: [
            "Restore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Every decoder of untrusted input as a fuzz target (bench/fuzz.sh, FuzzTargetsTests).
        .target(name: "FuzzTargets", dependencies: ["BitTorrent", "ClonezillaImage", "DHCP", "GetImg", "NetworkAddress", "Partclone", "TFTP", "UDPCast"]),
        .executableTarget(name: "liteserver-fuzz", dependencies: ["FuzzTargets"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets", "TestSupport"]),

        .target(name: "TestSupport", dependencies: ["ClonezillaImage", "FuzzTargets"], path: "Tests/TestSupport"),
        .testTarget(name: "ClonezillaImageTests", dependencies: ["ClonezillaImage", "TestSupport"]),
        .testTarget(name: "CompressionTests", dependencies: ["Compression", "TestSupport"]),
        .testTarget(name: "PartcloneTests", dependencies: ["Partclone", "Compression", "TestSupport", "CZlib", "CXXHash"]),
        .testTarget(name: "UDPCastTests", dependencies: ["UDPCast", "TestSupport"]),
        .testTarget(name: "DHCPTests", dependencies: ["DHCP", "TestSupport"]),
        .testTarget(name: "TFTPTests", dependencies: ["TFTP", "TestSupport"]),
        .testTarget(name: "FeederNIOTests", dependencies: [
            "FeederNIO", "Feeder", "NetBootNIO", "TestSupport",
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "FeederTests", dependencies: ["Feeder", "ClonezillaImage", "TestSupport"]),
        .testTarget(name: "NetBootTests", dependencies: ["NetBoot", "TestSupport"]),
        .testTarget(name: "NetBootNIOTests", dependencies: [
            "NetBootNIO", "NetBoot", "DHCP", "TFTP", "TestSupport",
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "BitTorrentNIOTests", dependencies: [
            "BitTorrentNIO", "BitTorrent", "TestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "BitTorrentTests", dependencies: ["BitTorrent", "Partclone", "Compression", "TestSupport"]),
        .testTarget(name: "RestoreTests", dependencies: ["Restore", "ClonezillaImage", "Compression", "Partclone", "TestSupport"]),
    ]
)
