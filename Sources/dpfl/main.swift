import DPFLCommands
DPFL.main()
