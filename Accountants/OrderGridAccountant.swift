/// An accountant that bounds ε(δ) and δ(ε) by minimising over a grid of Rényi orders and
/// reports the order that attains the bound. The CLI and ``LedgerAccounting`` use it to print the
/// optimal order and the grid-edge flag with every result.
public protocol OrderGridAccountant: PrivacyAccountant {
  /// The Rényi orders minimised over.
  var orders: RDPOrders { get }
  /// How RDP is converted to (ε, δ).
  var conversion: RDPConversion { get }
  /// ε(δ) with the optimal order and the grid-edge flag.
  func epsilonBound(delta: Double) throws(AccountingError) -> PrivacyBound
  /// δ(ε) with the optimal order and the grid-edge flag.
  func deltaBound(epsilon: Double) throws(AccountingError) -> PrivacyBound
}

extension RDPAccountant: OrderGridAccountant {}
extension MomentsAccountant: OrderGridAccountant {}

extension CertifiedRDPAccountant: OrderGridAccountant {
  /// Always ``RDPConversion/improved``, evaluated with directed rounding.
  public var conversion: RDPConversion { .improved }

  /// An empty accountant on the default integer grid (2…63, 128, 256, 512, 1024).
  public static let standard: CertifiedRDPAccountant = {
    do {
      return try CertifiedRDPAccountant()
    } catch {
      preconditionFailure("the default integer grid is valid: \(error)")
    }
  }()
}
