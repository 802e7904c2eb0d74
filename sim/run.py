"""One training iteration on the cycle-level model: schedule, timing and values together.

:func:`simulate` builds the program first (every configuration problem is a ConfigError,
raised before any simulation work), then times it with the engine while every
descriptor computes its values, and collects the counters.
"""
from __future__ import annotations

import dataclasses
import sys
import time

import numpy as np

from accel.config import AcceleratorConfig, NetworkConfig
from accel.fixed.net import FixedNet

from .engine import Run, execute
from .schedule import Schedule, build_schedule
from .stats import Stats, collect
from .values import Batch, Values, iteration_batch

#: Programs with more descriptors than this show a progress bar.
PROGRESS_MIN_DESCRIPTORS = 2000


@dataclasses.dataclass
class Simulation:
    """Everything one simulated iteration produced."""
    accel: AcceleratorConfig
    net: NetworkConfig
    batch: int
    schedule: Schedule
    run: Run
    stats: Stats
    wall_seconds: float
    values: Values | None
    dataset: str


def simulate(accel: AcceleratorConfig, net: NetworkConfig, batch: int, progress: bool = False,
             fixed: FixedNet | None = None, images: np.ndarray | None = None, labels: np.ndarray | None = None,
             data_dir: str | None = None, values: bool = True) -> Simulation:
    """Build the program of one iteration, time it and compute its values.

    ``fixed`` gives the initial parameters and the GEMM shift plan; without it, a
    :class:`FixedNet` from the network's seed, calibrated on a second batch.  ``images``
    and ``labels`` (``batch`` of them) are the batch; without them,
    :func:`sim.values.iteration_batch` draws it from the network's dataset.
    ``values=False`` times the program without computing values (no batch, no
    calibration: the worst-case shift plan; timing does not depend on values or
    shifts): ``Simulation.values`` is None and ``dataset`` is ``"none"``."""
    t0 = time.perf_counter()
    if not values:
        schedule = build_schedule(accel, net, batch, None if fixed is None else fixed.plan)
        run = execute(schedule.program, accel)
        stats = collect(run, [s.name for s in accel.sram])
        return Simulation(accel, net, batch, schedule, run, stats, time.perf_counter() - t0, None, "none")
    if fixed is None:      # configuration errors first, before calibrating a network
        build_schedule(accel, net, batch)
    dataset = "given"
    if images is None or fixed is None:
        drawn: Batch = iteration_batch(net, batch, data_dir)
        dataset = drawn.dataset
    if fixed is None:
        fixed = FixedNet(net, accel, seed=net.training.seed)
        fixed.calibrate(drawn.calib_images, drawn.calib_labels)
    if images is None:
        images, labels = drawn.images, drawn.labels
    if labels is None:
        raise TypeError("simulate: images given without labels")
    schedule = build_schedule(accel, net, batch, fixed.plan)
    vals = Values(schedule, fixed, images, labels)
    descs = schedule.program.descriptors
    bar = None
    if progress and len(descs) >= PROGRESS_MIN_DESCRIPTORS:
        from tqdm import tqdm
        bar = tqdm(total=len(descs), desc="simulate", unit="desc", file=sys.stderr, leave=False)

    def step(i: int) -> None:
        vals.run(i, descs[i])
        if bar is not None:
            bar.update(1)

    try:
        run = execute(schedule.program, accel, step)
    finally:               # an interrupted run clears its bar's line before the message
        if bar is not None:
            bar.close()
    stats = collect(run, [s.name for s in accel.sram])
    return Simulation(accel, net, batch, schedule, run, stats, time.perf_counter() - t0, vals, dataset)
