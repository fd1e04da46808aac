import DPFLCommands

DPFL.main()
