"""``fdaccel verilog``: one Verilog file per hardware unit of a configuration, and the top."""
from __future__ import annotations

from accel.config import load_accelerator
from hdl.tools.units import write_verilog

from ..options import VerilogOptions


def run_verilog(opts: VerilogOptions) -> int:
    """Write the files (whole or not at all) and print their paths."""
    for path in write_verilog(load_accelerator(opts.accel), opts.output):
        print(path)
    return 0
