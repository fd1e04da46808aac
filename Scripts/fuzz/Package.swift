// swift-tools-version: 6.1
import PackageDescription

/// libFuzzer harnesses for dpfl's readers, kept out of the main package so that its build
/// and CI are unaffected. Build and run them with `Scripts/fuzz/run`, which passes
/// `-sanitize=fuzzer` (coverage instrumentation of dpfl's code too), `-enable-testing` (so
/// that harnesses can `@testable import` the readers) and `-use-ld=lld`.
///
/// Each harness is an executable whose entry point `<Target>_main` hands libFuzzer's driver
/// (`LLVMFuzzerRunDriver`) one closure: SwiftPM links executables with
/// `--defsym main=<Target>_main`, which takes the place of libFuzzer's own `main`.
/// A harness defines `<Target>_main` itself and has no top-level code.
let harness: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
  name: "dpfl-fuzz",
  platforms: [.macOS(.v15)],
  dependencies: [.package(name: "dpfl", path: "../..")],
  targets: [
    .target(name: "CFuzzer"),
    .target(name: "FuzzSupport", dependencies: ["CFuzzer"]),
    .executableTarget(
      name: "FuzzSafetensors",
      dependencies: ["FuzzSupport", .product(name: "DPModel", package: "dpfl")],
      swiftSettings: harness),
    .executableTarget(
      name: "FuzzVocabulary",
      dependencies: ["FuzzSupport", .product(name: "DPModel", package: "dpfl")],
      swiftSettings: harness),
    .executableTarget(
      name: "FuzzStrictJSON",
      dependencies: ["FuzzSupport", .product(name: "DPModel", package: "dpfl")],
      swiftSettings: harness),
    .executableTarget(
      name: "FuzzJSONL",
      dependencies: ["FuzzSupport", .product(name: "DPFederated", package: "dpfl")],
      swiftSettings: harness),
    .executableTarget(
      name: "FuzzLedger",
      dependencies: [
        "FuzzSupport", .product(name: "DPFLCommands", package: "dpfl"),
        .product(name: "Accountants", package: "dpfl"),
      ], swiftSettings: harness),
    .executableTarget(
      name: "FuzzBatch",
      dependencies: ["FuzzSupport", .product(name: "DPFLCommands", package: "dpfl")],
      swiftSettings: harness),
    .executableTarget(
      name: "FuzzTOML",
      dependencies: [
        "FuzzSupport", .product(name: "DPFLCommands", package: "dpfl"),
        .product(name: "DPFederated", package: "dpfl"),
      ], swiftSettings: harness),
    .executableTarget(
      name: "FuzzRunFolder",
      dependencies: [
        "FuzzSupport", .product(name: "DPFederated", package: "dpfl"),
        .product(name: "DPModel", package: "dpfl"), .product(name: "Accountants", package: "dpfl"),
      ], swiftSettings: harness),
    .executableTarget(
      name: "FuzzCLI",
      dependencies: ["FuzzSupport", .product(name: "DPFLCommands", package: "dpfl")],
      swiftSettings: harness),
  ]
)
