import CFFTW
import RealModule
import Synchronization

/// Real-to-complex FFTs through FFTW (double precision), for composing privacy-loss
/// distributions. Plans are made with `FFTW_ESTIMATE` (cheap, deterministic) while holding a
/// lock, because FFTW's planner is not thread-safe; executing a plan is.
enum FFT {
  private static let planner = Mutex(())

  /// The smallest power of two ≥ n (FFT sizes; all sizes here are ≥ 1).
  static func size(atLeast n: Int) -> Int {
    var size = 1
    while size < n { size <<= 1 }
    return size
  }

  /// The circular convolution of `a` and `b` (each zero-padded) on `size` points; its first
  /// a.count + b.count − 1 values are the linear convolution when `size` is at least that.
  static func circularConvolution(_ a: [Double], _ b: [Double], size n: Int) -> [Double] {
    let spectrumA = forward(a, size: n)
    let spectrumB = forward(b, size: n)
    var product = [(Double, Double)](repeating: (0, 0), count: spectrumA.count)
    for k in product.indices {
      let (ar, ai) = spectrumA[k]
      let (br, bi) = spectrumB[k]
      product[k] = (ar * br - ai * bi, ar * bi + ai * br)
    }
    return inverse(product, size: n)
  }

  /// The `power`-fold circular self-convolution of `x` folded onto `size` points:
  /// result[j] = Σ over m ≡ j (mod size) of the `power`-fold linear convolution at m.
  static func circularPower(_ x: [Double], power: Int, size n: Int) -> [Double] {
    var folded = [Double](repeating: 0, count: n)
    for (k, value) in x.enumerated() { folded[k % n] += value }
    let spectrum = forward(folded, size: n)
    let exponent = Double(power)
    let powered = spectrum.map { re, im -> (Double, Double) in
      let radius = (re * re + im * im).squareRoot()
      if radius == 0 { return (0, 0) }
      let magnitude = Double.pow(radius, exponent)
      let angle = Double.atan2(y: im, x: re) * exponent
      return (magnitude * Double.cos(angle), magnitude * Double.sin(angle))
    }
    return inverse(powered, size: n)
  }

  /// The DFT of `x` zero-padded to `n` points: n/2 + 1 complex values.
  private static func forward(_ x: [Double], size n: Int) -> [(Double, Double)] {
    let input = fftw_alloc_real(n)!
    let output = fftw_alloc_complex(n / 2 + 1)!
    defer {
      fftw_free(input)
      fftw_free(output)
    }
    for i in 0..<n { input[i] = i < x.count ? x[i] : 0 }
    let buffers = Unchecked((input, output))
    execute {
      fftw_plan_dft_r2c_1d(Int32(n), buffers.value.0, buffers.value.1, UInt32(FFTW_ESTIMATE))
    }
    return (0..<(n / 2 + 1)).map { (output[$0].0, output[$0].1) }
  }

  /// The inverse DFT (normalised by 1/n) of n/2 + 1 complex values.
  private static func inverse(_ spectrum: [(Double, Double)], size n: Int) -> [Double] {
    let input = fftw_alloc_complex(n / 2 + 1)!
    let output = fftw_alloc_real(n)!
    defer {
      fftw_free(input)
      fftw_free(output)
    }
    for (k, value) in spectrum.enumerated() { input[k] = value }
    let buffers = Unchecked((input, output))
    execute {
      fftw_plan_dft_c2r_1d(Int32(n), buffers.value.0, buffers.value.1, UInt32(FFTW_ESTIMATE))
    }
    let scale = 1 / Double(n)
    return (0..<n).map { output[$0] * scale }
  }

  /// Makes a plan under the planner lock, executes it, destroys it under the lock.
  /// `FFTW_ESTIMATE` planning leaves the arrays alone, so they are filled beforehand.
  private static func execute(_ makePlan: @Sendable () -> fftw_plan?) {
    let plan = planner.withLock { _ in Unchecked(makePlan()) }
    fftw_execute(plan.value)
    planner.withLock { _ in fftw_destroy_plan(plan.value) }
  }
}

/// FFTW's raw buffers and plans, moved in and out of the planner lock; they never leave
/// the function that made them.
private struct Unchecked<Value>: @unchecked Sendable {
  var value: Value
  init(_ value: Value) { self.value = value }
}
