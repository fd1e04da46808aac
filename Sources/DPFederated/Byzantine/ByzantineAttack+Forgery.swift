import RealModule

extension ByzantineAttack {
  /// What the round's attackers send in place of their clean updates `clean` (one per
  /// attacker in the cohort, flattened), in a cohort of `cohortSize` clients; all send the
  /// same vector, built from their own clean updates only. Label flipping forges nothing
  /// (its attackers train on flipped labels) and returns `clean`.
  public func forged(clean: [[Float]], cohortSize: Int) -> [[Float]] {
    guard let first = clean.first, self != .labelFlip else { return clean }
    var mean = [Double](repeating: 0, count: first.count)
    var deviation = mean
    for vector in clean {
      for (index, value) in vector.enumerated() {
        mean[index] += Double(value) / Double(clean.count)
      }
    }
    for vector in clean {
      for (index, value) in vector.enumerated() {
        let difference = Double(value) - mean[index]
        deviation[index] += difference * difference / Double(clean.count)
      }
    }
    deviation = deviation.map { $0.squareRoot() }
    let vector: [Double]
    switch self {
    case .ipm:
      vector = mean.map { -$0 }
    case .alie:
      let z = Self.alieScale(cohortSize: cohortSize, attackers: clean.count)
      vector = zip(mean, deviation).map { $0 - 4 * z * $1 }
    case .minMax:
      let gamma = Self.minMaxScale(mean: mean, deviation: deviation, clean: clean)
      vector = zip(mean, deviation).map { $0 - gamma * $1 }
    case .labelFlip:
      return clean
    }
    return Array(repeating: vector.map { Float($0) }, count: clean.count)
  }

  /// ALIE's z: with n clients of which m attack, s = ⌊n/2 + 1⌋ − m honest clients must be
  /// won over, z = Φ⁻¹(min((n − m − s)/(n − m), 0.95)) (the authors' code, with the round's
  /// counts).
  static func alieScale(cohortSize: Int, attackers: Int) -> Double {
    let honest = Double(cohortSize - attackers)
    let needed = Double(cohortSize / 2 + 1 - attackers)
    guard honest > 0 else { return 0 }
    return standardNormalQuantile(min(max((honest - needed) / honest, 1e-6), 0.95))
  }

  /// Min-max's γ: the largest γ < 20 (bisected from 10 to 1e-5; 0 when none fits) such that μ − γ·s is no
  /// farther from any attacker's clean update than the largest distance between two of them.
  static func minMaxScale(mean: [Double], deviation: [Double], clean: [[Float]]) -> Double {
    func distance(_ a: [Double], _ b: [Float]) -> Double {
      zip(a, b).reduce(0.0) { $0 + ($1.0 - Double($1.1)) * ($1.0 - Double($1.1)) }.squareRoot()
    }
    var spread = 0.0
    for (i, a) in clean.enumerated() {
      for b in clean[(i + 1)...] { spread = max(spread, distance(a.map(Double.init), b)) }
    }
    var gamma = 10.0
    var step = gamma
    var accepted = 0.0
    while abs(accepted - gamma) > 1e-5 && step > 1e-9 {
      let candidate = zip(mean, deviation).map { $0 - gamma * $1 }
      if clean.allSatisfy({ distance(candidate, $0) <= spread }) {
        accepted = gamma
        gamma += step / 2
      } else {
        gamma -= step / 2
      }
      step /= 2
    }
    return accepted
  }

  /// Φ⁻¹(p) for p in (0, 1), by bisection on Φ(x) = erfc(−x/√2)/2 (to 1e-12).
  static func standardNormalQuantile(_ p: Double) -> Double {
    var low = -40.0
    var high = 40.0
    while high - low > 1e-12 {
      let middle = (low + high) / 2
      if 0.5 * Double.erfc(-middle / 2.0.squareRoot()) < p { low = middle } else { high = middle }
    }
    return (low + high) / 2
  }
}
