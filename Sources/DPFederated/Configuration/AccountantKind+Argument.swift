import Accountants
import ArgumentParser

/// `--accountant` in every command: pld, rdp, moments or certified.
extension AccountantKind: ExpressibleByArgument {}
