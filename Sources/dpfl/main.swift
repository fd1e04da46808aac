import DPFLCommands
import DPModel

OpenBLASKernel.reexecuteWithMatchingKernel()
DPFL.main()
