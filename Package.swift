// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "dpfl",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "Accountants", targets: ["Accountants"]),
    .executable(name: "dpfl", targets: ["dpfl"]),
    // The modules below are products only so that `Scripts/fuzz` (a separate package that
    // depends on this one by path) can drive their readers; they are not a stable API.
    .library(name: "DPModel", targets: ["DPModel"]),
    .library(name: "DPFederated", targets: ["DPFederated"]),
    .library(name: "DPFLCommands", targets: ["DPFLCommands"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
  ],
  targets: [
    // MARK: Public API

    /// The privacy math: events, accountants, conversions, calibration. No model code.
    .target(
      name: "Accountants",
      dependencies: ["CMPFR", "CFFTW", .product(name: "RealModule", package: "swift-numerics")],
      path: "Accountants"
    ),
    /// The model core in Float32 on OpenBLAS: matrices, layers with forward and backward,
    /// LoRA-family adapters, per-example gradients, encoders, safetensors, WordPiece.
    .target(
      name: "DPModel",
      dependencies: [
        "COpenBLAS", "CDNNL", "CMalloc", .product(name: "RealModule", package: "swift-numerics"),
      ],
      path: "Sources/DPModel",
      swiftSettings: [.unsafeFlags(["-cross-module-optimization"])]
    ),
    /// Private federated fine-tuning: clipping, noise, cohort sampling, DP-FedAvg over
    /// adapters (DP-LoRA, DP-DyLoRA, FFA-LoRA, Fed-SB), accounting before release, run folders.
    .target(
      name: "DPFederated",
      dependencies: [
        "Accountants", "DPModel", .product(name: "RealModule", package: "swift-numerics"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Crypto", package: "swift-crypto"), "FlowerNode",
      ],
      resources: [.copy("Resources/digits.csv"), .copy("Resources/DIGITS-LICENSE.md")]
    ),
    /// Flower's Fleet API (HTTP + protobuf) as a SuperNode speaks it: the protocol types
    /// generated from the pinned wheel, the object codec, `.npy` arrays, signed requests.
    /// No model code.
    .target(
      name: "FlowerNode",
      dependencies: [
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Crypto", package: "swift-crypto"), "CCurl",
      ],
      exclude: ["Generated/NOTICE.md"]
    ),
    /// Empirical privacy: canary clients in a training run, the one-shot estimate and the
    /// one-run lower bound beside the accountant's ε.
    .target(
      name: "DPAudit",
      dependencies: [
        "Accountants", "DPFederated", "DPModel",
        .product(name: "RealModule", package: "swift-numerics"),
      ]
    ),
    /// The command-line interface as a library, so tests can drive it.
    .target(
      name: "DPFLCommands",
      dependencies: [
        "Accountants", "DPAudit", "DPFederated", "DPModel",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "dpfl", dependencies: ["DPFLCommands", "DPModel"]),
    /// dpfl's side of `Scripts/bench model` (one training-step configuration per run).
    .executableTarget(name: "dpfl-model-bench", dependencies: ["DPModel"], path: "Scripts/ModelBench"),

    // MARK: Implementation details

    /// OpenBLAS (Debian: libopenblas-dev) through CBLAS; only DPModel's `BLAS` calls it.
    .systemLibrary(
      name: "COpenBLAS",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]
    ),

    /// oneDNN (Debian: libdnnl-dev) for bfloat16 matrix products; only DPModel's
    /// `BFloat16Weight` calls it. No pkg-config file: headers and library are on the
    /// default paths.
    .systemLibrary(
      name: "CDNNL",
      providers: [.apt(["libdnnl-dev"])]
    ),

    /// glibc's <malloc.h> (mallopt), for ``Allocator`` in DPModel.
    .systemLibrary(name: "CMalloc"),

    /// libcurl (Debian: libcurl4-openssl-dev) for the Flower node's HTTP(S), so that it can
    /// trust a private certificate authority (`dpfl node --root-certificates`).
    .systemLibrary(
      name: "CCurl",
      pkgConfig: "libcurl",
      providers: [.apt(["libcurl4-openssl-dev"])]
    ),

    /// MPFR and GMP (Debian: libmpfr-dev, libgmp-dev) for the certified RDP accountant's
    /// directed-rounding arithmetic. `Sources/CMPFR/shim.h` includes gmp.h, then mpfr.h.
    .systemLibrary(
      name: "CMPFR",
      pkgConfig: "mpfr",
      providers: [.apt(["libmpfr-dev"])]
    ),

    /// FFTW 3 (Debian: libfftw3-dev) for composing privacy-loss distributions by FFT.
    .systemLibrary(
      name: "CFFTW",
      pkgConfig: "fftw3",
      providers: [.apt(["libfftw3-dev"])]
    ),

    // MARK: Tests

    .target(
      name: "DPTestSupport",
      dependencies: ["Accountants", .product(name: "RealModule", package: "swift-numerics")],
      path: "Tests/DPTestSupport"
    ),
    .testTarget(
      name: "AccountantsTests",
      dependencies: [
        "Accountants", "DPTestSupport",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ],
      resources: [.copy("Fixtures")]
    ),
    .testTarget(
      name: "DPModelTests",
      dependencies: ["DPModel", "DPTestSupport"],
      resources: [.copy("Fixtures")]
    ),
    .testTarget(
      name: "DPFederatedTests",
      dependencies: [
        "DPFederated", "DPTestSupport",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ],
      resources: [.copy("Fixtures")]
    ),
    .testTarget(
      name: "FlowerNodeTests",
      dependencies: ["FlowerNode", .product(name: "Crypto", package: "swift-crypto")],
      resources: [.copy("Fixtures")]
    ),
    .testTarget(
      name: "DPAuditTests",
      dependencies: ["DPAudit", "DPFederated", "DPModel", "DPTestSupport"]
    ),
    .testTarget(
      name: "DPFLCommandsTests",
      dependencies: ["DPFLCommands", "DPModel", "DPTestSupport"],
      exclude: ["Fixtures"]
    ),
  ]
)
