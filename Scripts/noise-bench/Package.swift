// swift-tools-version: 6.1
import PackageDescription

/// The cost of dpfl's Gaussian noise, ns per coordinate: today's floating-point sampler
/// against the exact discrete Gaussian (`DiscreteGaussian`), and the σ each needs for
/// ε = 2 at the default schedule (the ε cost of the discrete event's general Poisson bound). A package of its own (depends on
/// the repository by path) so that the main build is unaffected:
///   swift run -c release --package-path Scripts/noise-bench
let package = Package(
  name: "noise-bench",
  platforms: [.macOS(.v15)],
  dependencies: [.package(name: "dpfl", path: "../..")],
  targets: [
    .executableTarget(
      name: "NoiseBench",
      dependencies: [
        .product(name: "Accountants", package: "dpfl"),
        .product(name: "DPFederated", package: "dpfl"), .product(name: "DPModel", package: "dpfl"),
      ])
  ]
)
