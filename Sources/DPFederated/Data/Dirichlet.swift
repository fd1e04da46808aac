import DPModel
import RealModule

/// Label-skewed client splits for data without natural users: each client's class
/// proportions come from Dirichlet(α) (Hsu, Qi & Brown 2019, arXiv 1909.06335), so small α
/// gives clients that see few classes.
public enum DirichletSplit {
  /// Assigns every index to one of `clients` clients: for each class, its examples are
  /// shuffled and dealt to clients in proportions drawn from Dirichlet(α, …, α).
  /// - Returns: the indices of each client (some may be empty for small α).
  public static func split(
    labels: [Int], clients: Int, concentration alpha: Double, seed: UInt64
  ) -> [[Int]] {
    precondition(clients >= 1 && alpha > 0, "Dirichlet split needs clients ≥ 1 and α > 0")
    var generator = Xoshiro256StarStar(seed: seed)
    var assignment = [[Int]](repeating: [], count: clients)
    for label in Set(labels).sorted() {
      let members = labels.indices.filter { labels[$0] == label }.shuffled(using: &generator)
      let weights = (0..<clients).map { _ in gamma(shape: alpha, using: &generator) }
      let total = weights.reduce(0, +)
      var start = 0
      var cumulative = 0.0
      for client in 0..<clients {
        cumulative += weights[client] / total
        let end =
          client == clients - 1
          ? members.count : min(members.count, Int((cumulative * Double(members.count)).rounded()))
        assignment[client] += members[start..<max(start, end)]
        start = max(start, end)
      }
    }
    return assignment.map { $0.sorted() }
  }

  /// A Gamma(shape, 1) draw (Marsaglia & Tsang 2000; shape < 1 by the boost u^(1/shape)).
  static func gamma<G: RandomNumberGenerator>(shape: Double, using generator: inout G) -> Double {
    if shape < 1 {
      let u = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &generator)
      return gamma(shape: shape + 1, using: &generator) * Double.pow(u, 1 / shape)
    }
    let d = shape - 1.0 / 3
    let c = 1 / (9 * d).squareRoot()
    while true {
      let x = generator.nextStandardNormal()
      let v = Double.pow(1 + c * x, 3)
      guard v > 0 else { continue }
      let u = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &generator)
      if Double.log(u) < x * x / 2 + d - d * v + d * Double.log(v) { return d * v }
    }
  }
}
