import CFFTW
import RealModule
import Synchronization

/// Real-to-complex FFTs through FFTW (double precision), for composing privacy-loss
/// distributions. Plans are made with `FFTW_ESTIMATE` (cheap, deterministic) while holding a
/// lock, because FFTW's planner is not thread-safe; executing a plan is.
enum FFT {
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
  ///
  /// Each frequency is raised to the power by repeated squaring (about 2·log₂ power complex
  /// products, relative error about power·2⁻⁵³ like the polar form, without its atan2, pow
  /// and sincos per frequency); a frequency whose power is below e⁻⁷⁰⁰ of the largest
  /// (|X₀| = Σx) is 0 without computing it, which skips the slow subnormal range.
  static func circularPower(_ x: [Double], power: Int, size n: Int) -> [Double] {
    var folded = [Double](repeating: 0, count: n)
    for (k, value) in x.enumerated() { folded[k % n] += value }
    let spectrum = forward(folded, size: n)
    let total = x.reduce(0, +)
    let cut = total * total * Double.exp(-1400 / Double(power))
    let powered = spectrum.map { re, im -> (Double, Double) in
      if re * re + im * im < cut { return (0, 0) }
      return complexPower((re, im), power)
    }
    return inverse(powered, size: n)
  }

  /// z^power by binary exponentiation.
  @inline(__always)
  private static func complexPower(_ z: (Double, Double), _ power: Int) -> (Double, Double) {
    var result = (1.0, 0.0)
    var base = z
    var exponent = power
    while true {
      if exponent & 1 == 1 {
        result = (
          result.0 * base.0 - result.1 * base.1, result.0 * base.1 + result.1 * base.0
        )
      }
      exponent >>= 1
      if exponent == 0 { return result }
      base = (base.0 * base.0 - base.1 * base.1, 2 * base.0 * base.1)
    }
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
    withPlans(size: n) { fftw_execute_dft_r2c($0.forward, input, output) }
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
    withPlans(size: n) { fftw_execute_dft_c2r($0.inverse, input, output) }
    let scale = 1 / Double(n)
    return (0..<n).map { output[$0] * scale }
  }

  /// The largest size whose plans are kept for the life of the process: all the powers of
  /// two up to it hold about 16 MB of twiddle factors. Making a plan computes its twiddle
  /// factors (n sines and cosines), which cost more than the transform itself.
  static let cachedPlanSize = 1 << 20

  /// The r2c and c2r plans of one size, made with `FFTW_ESTIMATE` on scratch arrays (which
  /// does not touch them) and executed on others through FFTW's new-array interface
  /// (`fftw_alloc` gives every array the same alignment).
  private struct Plans: @unchecked Sendable {
    var forward: fftw_plan
    var inverse: fftw_plan
  }

  private static let planCache = Mutex<[Int: Plans]>([:])

  /// Runs `body` with the plans of size `n`: cached up to ``cachedPlanSize``, else made and
  /// destroyed around it. FFTW's planner is not thread-safe, so plans are made and
  /// destroyed under a lock; executing them is thread-safe.
  private static func withPlans(size n: Int, _ body: (Plans) -> Void) {
    let plans = planCache.withLock { cache -> Plans in
      if let plans = cache[n] { return plans }
      let real = fftw_alloc_real(n)!
      let complex = fftw_alloc_complex(n / 2 + 1)!
      defer {
        fftw_free(real)
        fftw_free(complex)
      }
      let flags = UInt32(FFTW_ESTIMATE)
      let plans = Plans(
        forward: fftw_plan_dft_r2c_1d(Int32(n), real, complex, flags)!,
        inverse: fftw_plan_dft_c2r_1d(Int32(n), complex, real, flags)!)
      if n <= cachedPlanSize { cache[n] = plans }
      return plans
    }
    body(plans)
    if n > cachedPlanSize {
      planCache.withLock { _ in
        fftw_destroy_plan(plans.forward)
        fftw_destroy_plan(plans.inverse)
      }
    }
  }
}
