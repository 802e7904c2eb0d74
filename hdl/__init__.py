"""Amaranth RTL of the accelerator units.

Gateware: the units (:mod:`hdl.fft`, :mod:`hdl.fft2d`, :mod:`hdl.cmac`, :mod:`hdl.act`,
:mod:`hdl.crop`, with the stream helpers of :mod:`hdl.stream`) and the top that runs
descriptors on them (:mod:`hdl.top`, a package of components).  Tooling, which no
gateware imports: :mod:`hdl.tools` (Verilog, lint, Verilator runs and cache, synthesis,
the unit registry).  Package data: the Verilator harnesses (``hdl/harness/*.cpp``), the
ECP5 primitives' behavioural models (``hdl/models/*.v``) and the lint waivers
(``hdl/waivers/*.vlt``).
"""
