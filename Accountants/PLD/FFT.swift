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

  /// Calls `body` with the circular convolution of `a` and `b` (each zero-padded) on `size`
  /// points; its first a.count + b.count − 1 values are the linear convolution when `size`
  /// is at least that. The buffer lives for the call only.
  static func circularConvolution<Result>(
    _ a: [Double], _ b: [Double], size n: Int,
    _ body: (UnsafeMutableBufferPointer<Double>) -> Result
  ) -> Result {
    let signal = Buffers.take(size: n)
    let other = Buffers.take(size: n)
    defer {
      signal.give()
      other.give()
    }
    signal.load(a)
    other.load(b)
    withPlans(size: n) { plans in
      fftw_execute_dft_r2c(plans.forward, signal.real, signal.complex)
      fftw_execute_dft_r2c(plans.forward, other.real, other.complex)
      for k in 0..<(n / 2 + 1) {
        let (ar, ai) = signal.complex[k]
        let (br, bi) = other.complex[k]
        signal.complex[k] = (ar * br - ai * bi, ar * bi + ai * br)
      }
      fftw_execute_dft_c2r(plans.inverse, signal.complex, signal.real)
    }
    return body(signal.normalised())
  }

  /// Calls `body` with the `power`-fold circular self-convolution of `x` folded onto `size`
  /// points: result[j] = Σ over m ≡ j (mod size) of the `power`-fold linear convolution at
  /// m. The buffer lives for the call only.
  ///
  /// Each frequency is raised to the power by repeated squaring (about 2·log₂ power complex
  /// products, relative error about power·2⁻⁵³ like the polar form, without its atan2, pow
  /// and sincos per frequency); a frequency whose power is below e⁻⁷⁰⁰ of the largest
  /// (|X₀| = Σx) is 0 without computing it, which skips the slow subnormal range.
  static func circularPower<Result>(
    _ x: [Double], power: Int, size n: Int,
    _ body: (UnsafeMutableBufferPointer<Double>) -> Result
  ) -> Result {
    let buffers = Buffers.take(size: n)
    defer { buffers.give() }
    buffers.load(x)
    let total = x.reduce(0, +)
    let cut = total * total * Double.exp(-1400 / Double(power))
    withPlans(size: n) { plans in
      fftw_execute_dft_r2c(plans.forward, buffers.real, buffers.complex)
      for k in 0..<(n / 2 + 1) {
        let (re, im) = buffers.complex[k]
        buffers.complex[k] = re * re + im * im < cut ? (0, 0) : complexPower((re, im), power)
      }
      fftw_execute_dft_c2r(plans.inverse, buffers.complex, buffers.real)
    }
    return body(buffers.normalised())
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

  /// One transform's FFTW arrays: n reals and n/2 + 1 complex values. Released arrays are
  /// kept for reuse up to ``pooledBytes`` in all: fresh pages cost more (the kernel clears
  /// them) than the transforms of a query.
  private struct Buffers: @unchecked Sendable {
    let size: Int
    let real: UnsafeMutablePointer<Double>
    let complex: UnsafeMutablePointer<fftw_complex>

    private init(size n: Int) {
      size = n
      real = fftw_alloc_real(n)!
      complex = fftw_alloc_complex(n / 2 + 1)!
    }

    private var bytes: Int { 16 * size + 16 }

    private static let pool = Mutex<(free: [Int: [Buffers]], bytes: Int)>(([:], 0))

    /// Arrays of size n, from the pool when it has some.
    static func take(size n: Int) -> Buffers {
      let pooled = pool.withLock { pool -> Buffers? in
        guard let buffers = pool.free[n]?.popLast() else { return nil }
        pool.bytes -= buffers.bytes
        return buffers
      }
      return pooled ?? Buffers(size: n)
    }

    /// Returns the arrays to the pool, or frees them when it is full.
    func give() {
      let kept = Self.pool.withLock { pool -> Bool in
        guard pool.bytes + bytes <= pooledBytes else { return false }
        pool.free[size, default: []].append(self)
        pool.bytes += bytes
        return true
      }
      if !kept {
        fftw_free(real)
        fftw_free(complex)
      }
    }

    /// Sets the reals to `x` folded onto the size (x[k] adds to k mod n), zero elsewhere.
    func load(_ x: [Double]) {
      real.update(repeating: 0, count: size)
      for (k, value) in x.enumerated() { real[k % size] += value }
    }

    /// The reals divided by n (FFTW's inverse is unnormalised).
    func normalised() -> UnsafeMutableBufferPointer<Double> {
      let scale = 1 / Double(size)
      for i in 0..<size { real[i] *= scale }
      return UnsafeMutableBufferPointer(start: real, count: size)
    }
  }

  /// The most memory the pool of released FFT arrays keeps (two arrays of 2²¹ points).
  static let pooledBytes = 64 << 20

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
