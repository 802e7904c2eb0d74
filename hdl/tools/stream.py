"""The stream harness: a component with one input and one output valid/ready stream, run in
Verilator (``hdl/harness/stream.cpp``).

It streams N-bit words into the input stream (with seeded random valid gaps), collects the
output stream (with seeded random ready backpressure), and returns the output words and
the cycle of every transfer, for comparison with ``accel.fixed``.
"""
from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amaranth.hdl import Shape
from amaranth.lib import wiring

from .files import data_text
from .verilator import verilator_build
from .verilog import verilog


@dataclass
class StreamRun:
    """Result of a harness run: output words, and transfer cycles counted from the first
    cycle after reset (same time base for input and output)."""

    outputs: list[int]
    in_cycles: list[int]
    out_cycles: list[int]
    cycles: int


def build_stream_harness(verilog_text: str, top: str, in_width: int, out_width: int,
                         in_port: str = "i", out_port: str = "o") -> Path:
    """Compile (or reuse from the cache) the stream harness executable for this design."""
    defines = {"IW": in_width, "OW": out_width, "IN_PORT": in_port, "OUT_PORT": out_port}
    return verilator_build({"dut.v": verilog_text, "harness.cpp": data_text("harness", "stream.cpp")},
                           top, "Vdut", defines)


def _parse(lines: list[str]) -> StreamRun:
    outputs, in_cycles, out_cycles, cycles = [], [], [], 0
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "o":
            out_cycles.append(int(parts[1]))
            outputs.append(int(parts[2], 16))
        elif parts[0] == "i":
            in_cycles.append(int(parts[1]))
        else:
            cycles = int(parts[1])
    return StreamRun(outputs, in_cycles, out_cycles, cycles)


def run_stream(verilog_text: str, top: str, inputs: Sequence[int], n_outputs: int, *,
               in_width: int, out_width: int, in_port: str = "i", out_port: str = "o",
               gap_prob: float = 0.0, stall_prob: float = 0.0, seed: int = 1,
               max_cycles: int | None = None) -> StreamRun:
    """Run a Verilog module with one input and one output valid/ready stream in Verilator.

    The module must have ports ``clk``, ``rst``, ``{in_port}__payload/valid/ready`` and
    ``{out_port}__payload/valid/ready`` (what :func:`hdl.tools.verilog.verilog` emits for
    an Amaranth component with ``In(stream.Signature(...))``/``Out(...)`` members).
    ``inputs`` are unsigned payload words (bit patterns) of ``in_width`` bits.  Each cycle
    the input is withheld with probability ``gap_prob`` and ``ready`` dropped with
    ``stall_prob`` (seeded, deterministic).  Stops after ``n_outputs`` output transfers.
    """
    exe = build_stream_harness(verilog_text, top, in_width, out_width, in_port, out_port)
    max_cycles = max_cycles or 100 * (len(inputs) + n_outputs) + 100_000
    with tempfile.TemporaryDirectory(prefix="fdaccel-run-") as tmp:
        fin, fout = Path(tmp) / "in.hex", Path(tmp) / "out.txt"
        mask = (1 << in_width) - 1
        fin.write_text("".join(f"{int(w) & mask:x}\n" for w in inputs))
        proc = subprocess.run(
            [str(exe), str(fin), str(fout), str(n_outputs), str(int(gap_prob * 65536)),
             str(int(stall_prob * 65536)), str(seed), str(max_cycles)],
            capture_output=True, text=True)
        run = _parse(fout.read_text().split("\n"))
    if proc.returncode != 0:
        raise RuntimeError(f"harness got {len(run.outputs)} of {n_outputs} outputs in {run.cycles} "
                           f"cycles (exit {proc.returncode}): {proc.stderr}")
    return run


def payload_width(component: wiring.Component, port: str) -> int:
    """Width of the payload of ``component``'s stream member ``port``."""
    member = component.signature.members[port].signature.members["payload"]
    return Shape.cast(member.shape).width


def simulate_stream(component: wiring.Component, name: str, inputs: Sequence[int],
                    n_outputs: int, *, in_port: str = "i", out_port: str = "o",
                    **kwargs: Any) -> StreamRun:
    """:func:`run_stream` on an Amaranth component (Verilog and widths derived from it)."""
    return run_stream(verilog(component, name), name, inputs, n_outputs,
                      in_width=payload_width(component, in_port),
                      out_width=payload_width(component, out_port),
                      in_port=in_port, out_port=out_port, **kwargs)
