"""Typed options of every command: what the command line parsed, and nothing else.

Each command body takes one of these frozen dataclasses, so that it can be called from
Python (tests, benchmarks, notebooks) exactly as the command line calls it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TrainMode = Literal["frequency", "spatial", "fixed"]
ActKind = Literal["pwl", "spatial", "linear"]


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
    folder, energy table and the files to write (``trace``: ``.json`` for a Chrome /
    Perfetto trace, ``.csv`` for a table)."""
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
    energy table and data folder; how the points run (``timing_only``: without values;
    ``workers``: a local Dask cluster of that many processes, 0 in this process, None one
    per CPU; ``scheduler``: an existing Dask cluster's address); the results store
    (``store``, or ``resume``: continue the sweep a store records); the Pareto
    objectives and outputs."""
    accel: str | None = None
    network: str | None = None
    batch: int | None = None
    sets: tuple[str, ...] = ()
    energy: str | None = None
    data: str | None = None
    json: str | None = None
    csv: str | None = None
    timing_only: bool = False
    workers: int | None = None
    scheduler: str | None = None
    store: str | None = None
    resume: str | None = None
    pareto: tuple[str, ...] | None = None
    plot: str | None = None


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
class CompareOptions:
    """``fdaccel compare``: the network and accelerator, the target test accuracy, the seeds
    and learning-rate grid of the training runs, their budget (epochs) and evaluation
    interval, the batch (None: the network's), the activation kinds of the frequency
    network, the fixed-point check, data folder, energy table, JSON file, and whether to
    update the accuracy cache."""
    network: str | None = None
    accel: str | None = None
    target: float = 0.95
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    lrs: tuple[float, ...] = (0.005, 0.01, 0.02, 0.05)
    epochs: int = 20
    eval_every: int = 10
    batch: int | None = None
    kinds: tuple[ActKind, ...] = ("pwl", "spatial", "linear")
    fixed_check: bool = True
    data: str | None = None
    energy: str | None = None
    json: str | None = None
    cache: bool = True


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
