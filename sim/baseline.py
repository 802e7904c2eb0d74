"""The spatial-domain baseline: the same layer shapes trained the usual way, same engine.

A systolic accelerator of the same size: an output-stationary array of real MACs with as
many multipliers as the frequency design's complex array (a complex MAC = 3 real
multipliers, so ``rows x 3 cols``), the same SRAM buffers, DRAM and energy table, and
the same activation lanes.  Its program is the spatial lowering
(:func:`sim.schedule.spatial.lower_spatial`, which describes the layers) followed by the
frequency schedule's own public stages -- placement, tiling and emission, checking --
and it runs on the same engine, so cycles and counters mean the same thing in both.
"""
from __future__ import annotations

import dataclasses

from accel.config import AcceleratorConfig, NetworkConfig
from accel.network import require_hardware_support

from .schedule import Schedule, check_batch
from .schedule.emission import check, emit, schedule_of
from .schedule.placement import place
from .schedule.spatial import lower_spatial
from .units import Machine


def baseline_accelerator(accel: AcceleratorConfig) -> AcceleratorConfig:
    """The same accelerator with a real systolic array of 3x the complex array's cells."""
    mac = accel.mac_array
    return dataclasses.replace(accel, name=f"{accel.name}-spatial",
                               mac_array=dataclasses.replace(mac, cols=3 * mac.cols))


def build_baseline(accel: AcceleratorConfig, net: NetworkConfig, batch: int) -> Schedule:
    """The spatial baseline's program for one training iteration on
    :func:`baseline_accelerator` (same buffers, DRAM and table)."""
    check_batch(batch)
    require_hardware_support(net, "the spatial baseline")
    base = baseline_accelerator(accel)
    machine = Machine(base)
    layer_names = tuple(layer.name for layer in net.layers)
    ops = lower_spatial(base, net, batch, machine)
    place(ops, machine)
    emitted = emit(ops, machine, layer_names)
    check(emitted.program, base, "the spatial baseline of ")
    return schedule_of(ops, emitted, machine)
