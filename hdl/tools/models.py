"""Behavioural models of the ECP5 primitives the units instantiate with ``dsp="ecp5"``
(``hdl/models/*.v``), to append to their Verilog for Verilator: yosys ships only black
boxes for them."""
from __future__ import annotations

import tempfile
from pathlib import Path

from .files import data_text
from .verilog import lint_files

#: The primitives modelled, each in ``hdl/models/<name>.v``.
ECP5_PRIMITIVES = ("MULT18X18D", "DP16KD")


def ecp5_models() -> str:
    """Verilog of every model of :data:`ECP5_PRIMITIVES`."""
    return "".join(data_text("models", f"{name}.v") for name in ECP5_PRIMITIVES)


def lint_model(name: str) -> str:
    """``verilator --lint-only -Wall`` of model ``name`` with the waivers of
    ``hdl/waivers/models.vlt`` (each named, with its reason); raises
    :class:`hdl.tools.verilog.LintError` if anything else remains."""
    with tempfile.TemporaryDirectory(prefix="fdaccel-lint-") as tmp:
        path = Path(tmp) / f"{name}.v"
        path.write_text(data_text("models", f"{name}.v"))
        return lint_files([path], name, data_text("waivers", "models.vlt"))
