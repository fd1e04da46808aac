internal import CMPFR

/// A binary floating-point number of fixed precision held by MPFR (an `mpfr_t`), for
/// the directed-rounding arithmetic of ``CertifiedRDPAccountant``.
///
/// MPFR rounds every operation *correctly* in the requested direction: with `MPFR_RNDU`
/// the result is the smallest representable number ≥ the exact real result, with
/// `MPFR_RNDD` the largest one ≤ it (MPFR manual, "Rounding"). That guarantee is the whole
/// certification argument, so the arithmetic is written as plain `mpfr_*` calls on
/// ``raw`` with the rounding direction spelled out at every call.
///
/// Heap wrapper (swift-platform.md §1): an `mpfr_t` is a one-element array of a struct
/// whose limbs live elsewhere, so a Swift copy of the struct would alias them, and
/// `mpfr_add(&x, &x, &y, …)` on a Swift variable violates exclusivity. The struct
/// therefore lives in memory this class owns, and operations that read and write the
/// same number pass the same pointer twice, which MPFR allows. Instances are scratch
/// values local to one query: not `Sendable`, never stored in an accountant. Queries
/// on different threads are safe because Debian's MPFR keeps its caches and flags in
/// thread-local storage (`mpfr_buildopt_tls_p()`, checked by the accountant's init).
final class MPFRNumber {
  /// The `mpfr_ptr` to pass to MPFR.
  let raw: UnsafeMutablePointer<__mpfr_struct>

  /// Zero, with `precision` bits of significand.
  init(precision: Int = CertifiedRDPAccountant.precisionBits) {
    raw = .allocate(capacity: 1)
    mpfr_init2(raw, mpfr_prec_t(precision))
    mpfr_set_zero(raw, 1)
  }

  /// `value` exactly: a finite Double has at most 53 significant bits, so it is exact at
  /// any precision ≥ 53 (checked); ±∞ is exact too.
  /// - Precondition: `value` is not NaN.
  convenience init(exactly value: Double, precision: Int = CertifiedRDPAccountant.precisionBits) {
    precondition(!value.isNaN, "MPFRNumber(exactly:) needs a number; got NaN")
    precondition(
      precision >= Double.significandBitCount + 1, "a Double needs ≥ 53 bits to be exact")
    self.init(precision: precision)
    let ternary = mpfr_set_d(raw, value, MPFR_RNDN)
    precondition(ternary == 0, "mpfr_set_d was inexact for \(value)")
  }

  deinit {
    mpfr_clear(raw)
    raw.deallocate()
  }

  /// Whether the value is ±0.
  var isZero: Bool { mpfr_zero_p(raw) != 0 }
  /// Whether the value is ±∞.
  var isInfinite: Bool { mpfr_inf_p(raw) != 0 }
  /// Whether the value is > 0 (false for NaN, which `mpfr_cmp_ui` reports as 0).
  var isPositive: Bool { mpfr_cmp_ui(raw, 0) > 0 }

  /// Sets the value to zero.
  func setZero() { mpfr_set_zero(raw, 1) }

  /// Sets the value to +∞.
  func setInfinity() { mpfr_set_inf(raw, 1) }

  /// The nearest Double at or above the value (`mpfr_get_d` with `MPFR_RNDU`): an upper
  /// bound of an upper bound. +∞ beyond the Double range.
  var roundedUp: Double { mpfr_get_d(raw, MPFR_RNDU) }

  /// Whether the value is strictly less than `other` (false if either is NaN).
  func isLess(than other: MPFRNumber) -> Bool { mpfr_less_p(raw, other.raw) != 0 }
}

/// An arbitrary-size integer held by GMP (an `mpz_t`), for exact composition counts:
/// nested `selfComposed` counts multiply and can exceed `Int`.
///
/// GMP's `mpz_*` names are C macros, which Swift does not import; the functions behind
/// them are `__gmpz_*`. Same heap-wrapper pattern as ``MPFRNumber``.
final class GMPInteger {
  /// The `mpz_ptr` to pass to GMP (and to `mpfr_mul_z`).
  let raw: UnsafeMutablePointer<__mpz_struct>

  /// The integer `value`.
  init(_ value: UInt) {
    raw = .allocate(capacity: 1)
    __gmpz_init_set_ui(raw, value)
  }

  deinit {
    __gmpz_clear(raw)
    raw.deallocate()
  }

  /// A new integer equal to this one.
  func copy() -> GMPInteger {
    let copy = GMPInteger(0)
    __gmpz_set(copy.raw, raw)
    return copy
  }

  /// A new integer equal to this one times `factor`.
  func multiplied(by factor: UInt) -> GMPInteger {
    let product = GMPInteger(0)
    __gmpz_mul_ui(product.raw, raw, factor)
    return product
  }

  /// Adds `other` in place.
  func add(_ other: GMPInteger) { __gmpz_add(raw, raw, other.raw) }
}
