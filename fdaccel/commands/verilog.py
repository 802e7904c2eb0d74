"""``fdaccel verilog``: one Verilog file per hardware unit of a configuration, and the top."""
from __future__ import annotations

from accel.config import load_accelerator
from hdl.tools.units import write_verilog

from ..options import VerilogOptions
from ..report import check_output


def run_verilog(opts: VerilogOptions) -> int:
    """Write the files (whole or not at all) and print their paths; the output folder is
    checked first (an existing file, a missing parent, no permission: exit 2)."""
    check_output(opts.output, "verilog -o", folder=True)
    for path in write_verilog(load_accelerator(opts.accel), opts.output):
        print(path)
    return 0
