import DPModel

/// A mechanism whose server adds the clients' updates up as they arrive, with no clip and
/// no noise of its own: no privacy at all (``NonPrivateMechanism``), or privacy the clients
/// already added (``LocalDPSGDMechanism``).
public protocol PlainSumMechanism: PrivacyMechanism {}

extension PlainSumMechanism {
  public func message(for update: ParameterSet<Float>, client: Int, context: RoundContext)
    -> ClientMessage
  {
    .unclipped(update, client: client)
  }

  public mutating func release(
    _ results: [ClientResult], template: ParameterSet<Float>, context: RoundContext,
    authorization: ReleaseAuthorization
  ) -> Release {
    results.plainRelease(template: template)
  }
}
