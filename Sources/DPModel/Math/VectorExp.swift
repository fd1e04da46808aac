/// e^x in Float, sixteen lanes at a time: what softmax and GELU's derivative call once per
/// entry, where libm's `expf` is a call per entry that the compiler cannot vectorise.
///
/// Cephes's `expf`: x = n·ln 2 + r with n = round(x/ln 2) and |r| ≤ ln 2 / 2 (ln 2 split in
/// two parts so that r is exact), e^r by a degree-7 polynomial, times 2ⁿ set in the
/// exponent bits. Its relative error is below 1.5e-7 on the whole range (8e-8 at worst
/// in the test against `exp` in Double), about one unit in the last place. Below −87.3 (where e^x would be
/// subnormal) the result is 0, so −∞ gives 0; above 88 it is e⁸⁸, not ∞ (softmax and GELU
/// only pass values ≤ 0).
@inline(__always)
func vectorExp(_ value: SIMD16<Float>) -> SIMD16<Float> {
  let low: Float = -87.336_54
  let x = value.replacing(with: 88, where: value .> 88)
    .replacing(with: low, where: value .< low)
  // Adding 1.5·2²³ rounds x/ln 2 to an integer n (to nearest, ties to even) and leaves n
  // in the low bits, with no conversion that would trap on NaN.
  let shifted = x * 1.442_695_04 + 12_582_912
  let n = shifted - 12_582_912
  var r = x - n * 0.693_359_375
  r = r + n * 2.121_944_4e-4
  var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
  p = p * r + 1.398_199_950_7e-3
  p = p * r + 8.333_451_907_3e-3
  p = p * r + 4.166_579_589_4e-2
  p = p * r + 1.666_666_545_9e-1
  p = p * r + 5.000_000_120_1e-1
  p = p * (r * r) + r + 1
  let exponent = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
  let scale = unsafeBitCast(exponent, to: SIMD16<Float>.self)
  return (p * scale).replacing(with: 0, where: value .< low)
}
