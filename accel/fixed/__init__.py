"""Bit-accurate integer models of every hardware unit: the contract that ``sim/`` and ``hdl/`` both meet."""
