"""Typed options of every command: what the command line parsed, and nothing else.

Each command body takes one of these frozen dataclasses, so that it can be called from
Python (tests, benchmarks, notebooks) exactly as the command line calls it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TrainMode = Literal["frequency", "spatial", "fixed"]


@dataclass(frozen=True)
class TrainOptions:
    """``fdaccel train``: the network, training overrides (None: the network's own), the
    model (``frequency`` golden, ``spatial`` reference or ``fixed`` point) and outputs."""
    network: str | None = None
    epochs: int | None = None
    batch: int | None = None
    lr: float | None = None
    seed: int | None = None
    json: str | None = None
    data: str | None = None
    mode: TrainMode = "frequency"
    accel: str | None = None


@dataclass(frozen=True)
class SimulateOptions:
    """``fdaccel simulate``: configurations, batch and seed (None: the network's), data
    folder, energy table and the files to write."""
    accel: str | None = None
    network: str | None = None
    batch: int | None = None
    seed: int | None = None
    data: str | None = None
    json: str | None = None
    trace: str | None = None
    energy: str | None = None
    csv: str | None = None
    plot: str | None = None


@dataclass(frozen=True)
class SweepOptions:
    """``fdaccel sweep``: the base configurations, the ``KEY=V1,V2`` settings to sweep,
    energy table, data folder and outputs."""
    accel: str | None = None
    network: str | None = None
    batch: int | None = None
    sets: tuple[str, ...] = ()
    energy: str | None = None
    data: str | None = None
    json: str | None = None
    csv: str | None = None


@dataclass(frozen=True)
class VerilogOptions:
    """``fdaccel verilog``: the accelerator and the output folder."""
    output: str
    accel: str | None = None


@dataclass(frozen=True)
class SynthOptions:
    """``fdaccel synth``: the accelerator, one unit (None: all), the FPGA family, JSON file."""
    accel: str | None = None
    unit: str | None = None
    target: Literal["ecp5"] = "ecp5"
    json: str | None = None


@dataclass(frozen=True)
class AnalyzeOptions:
    """``fdaccel analyze``: the analysis (``fdaccel.analyze.ANALYSES``), the network (None:
    the analysis's own), training epochs and seed (None: the analysis's defaults), outputs."""
    kind: str
    network: str | None = None
    epochs: int | None = None
    seed: int | None = None
    json: str | None = None
    plot: str | None = None
