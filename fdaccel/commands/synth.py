"""``fdaccel synth``: synthesize units for an FPGA and report resources and Fmax."""
from __future__ import annotations

from accel.config import load_accelerator
from hdl.tools.units import synth_units

from ..options import SynthOptions
from ..report import table, write_json


def run_synth(opts: SynthOptions) -> int:
    """One table row per unit (all units, or ``opts.unit``); the rows as JSON if asked."""
    rows = synth_units(load_accelerator(opts.accel), opts.unit, opts.target)
    keys = list(rows[0]) if rows else []
    print(table(keys, [[r[k] for k in keys] for r in rows]))
    if opts.json:
        write_json(opts.json, rows)
    return 0
