import RealModule

/// A first-order optimiser over a ``ParameterSet``: given the current parameters and a
/// gradient (or, on a federated server, the negated aggregate update), it moves the
/// parameters one step. Its state (momentum, moments) is part of the value.
public struct Optimizer<Scalar: BLASScalar>: Equatable, Sendable, Codable {
  /// The update rule and its hyper-parameters.
  public enum Rule: Equatable, Sendable, Codable {
    /// θ ← θ − η·g.
    case sgd(learningRate: Double)
    /// v ← μ·v + g; θ ← θ − η·v (PyTorch's SGD with momentum, no dampening).
    case momentum(learningRate: Double, momentum: Double)
    /// Adam (Kingma & Ba 2015, arXiv 1412.6980v9, Algorithm 1) with bias correction.
    case adam(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double)
  }

  /// The rule.
  public let rule: Rule
  private var first: ParameterSet<Scalar>?
  private var second: ParameterSet<Scalar>?
  private var steps = 0

  /// An optimiser with fresh state.
  public init(_ rule: Rule) { self.rule = rule }

  /// Adam with PyTorch's defaults (β₁ = 0.9, β₂ = 0.999, ε = 1e-8).
  public static func adam(learningRate: Double) -> Optimizer {
    Optimizer(.adam(learningRate: learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-8))
  }

  /// Moves `parameters` one step against `gradient`, at the rule's learning rate times
  /// `learningRateFactor` (a schedule's factor; the state evolves as without it).
  /// - Precondition: the same names and shapes in the same order.
  public mutating func step(
    _ parameters: inout ParameterSet<Scalar>, gradient: ParameterSet<Scalar>,
    learningRateFactor: Double = 1
  ) {
    steps += 1
    switch rule {
    case .sgd(let baseRate):
      let learningRate = baseRate * learningRateFactor
      parameters.add(gradient, scaledBy: Scalar(-learningRate))
    case .momentum(let baseRate, let momentum):
      let learningRate = baseRate * learningRateFactor
      var velocity =
        first ?? gradient.with(flattened: Array(repeating: 0, count: gradient.scalarCount))
      let previous = velocity.flattened()
      velocity = velocity.with(
        flattened: zip(previous, gradient.flattened()).map { Scalar(momentum) * $0 + $1 })
      first = velocity
      parameters.add(velocity, scaledBy: Scalar(-learningRate))
    case .adam(let baseRate, let beta1, let beta2, let epsilon):
      let learningRate = baseRate * learningRateFactor
      let g = gradient.flattened()
      var m = first?.flattened() ?? Array(repeating: 0, count: g.count)
      var v = second?.flattened() ?? Array(repeating: 0, count: g.count)
      let correction1 = 1 - Double.pow(beta1, steps)
      let correction2 = 1 - Double.pow(beta2, steps)
      var update = [Scalar](repeating: 0, count: g.count)
      for index in g.indices {
        m[index] = Scalar(beta1) * m[index] + Scalar(1 - beta1) * g[index]
        v[index] = Scalar(beta2) * v[index] + Scalar(1 - beta2) * g[index] * g[index]
        let mHat = Double(m[index]) / correction1
        let vHat = Double(v[index]) / correction2
        update[index] = Scalar(-learningRate * mHat / (vHat.squareRoot() + epsilon))
      }
      first = gradient.with(flattened: m)
      second = gradient.with(flattened: v)
      parameters.add(gradient.with(flattened: update))
    }
  }

  /// Whether the optimiser's state fits `parameters` (the same names and shapes, or no
  /// state yet) and is finite: what a restored optimiser must satisfy before it steps.
  public func fits(_ parameters: ParameterSet<Scalar>) -> Bool {
    [first, second].allSatisfy { state in
      guard let state else { return true }
      return state.names == parameters.names
        && zip(state.matrices, parameters.matrices).allSatisfy {
          $0.rows == $1.rows && $0.columns == $1.columns && $0.values.allSatisfy(\.isFinite)
        }
    } && steps >= 0
  }
}
