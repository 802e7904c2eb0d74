"""The controller's program for one training iteration: layers x phases as descriptors.

A schedule is built by an explicit list of public stages:

1. **lowering** -- the network as a list of ops (:class:`~sim.schedule.ir.Op`), each of a
   kind (:mod:`sim.schedule.kinds`) that names its operands, emits its descriptors and
   computes their values: :func:`~sim.schedule.frequency.lower_frequency` (the frequency
   design) or :func:`~sim.schedule.spatial.lower_spatial` (the spatial baseline);
2. **placement** -- :func:`~sim.schedule.placement.place`: intermediates that fit stay in
   the resident half of their buffers, the rest live in DRAM;
3. **tiling and emission** -- :func:`~sim.schedule.emission.emit`: chunks sized for the
   staging half (double buffered where two fit), their DRAM loads and stores, the program;
4. **checking** -- :func:`~sim.schedule.emission.check`: every descriptor validated
   against the instruction set and the accelerator before anything runs.

:func:`build_schedule` composes them for the frequency design; ``sim.baseline.build_baseline``
for the spatial baseline.  The :class:`Schedule` keeps the operations, which operation
each descriptor belongs to and the tensors by name: what ``sim/values.py`` needs to
compute every descriptor's values.
"""
from __future__ import annotations

from accel.config import AcceleratorConfig, ConfigError, NetworkConfig
from accel.fixed.layers import ShiftPlan
from accel.network import require_hardware_support

from ..units import Machine
from .emission import check, emit, schedule_of
from .frequency import lower_frequency
from .ir import Op, Operand, Schedule, Tensor
from .placement import FIRST_RESIDENT_REGION, MAX_REGION, STAGING_OPERANDS, place

__all__ = ["FIRST_RESIDENT_REGION", "MAX_REGION", "STAGING_OPERANDS", "Op", "Operand", "Schedule", "Tensor",
           "build_schedule", "check_batch"]


def check_batch(batch: int) -> None:
    """ConfigError unless ``batch`` is a batch size."""
    if batch < 1:
        raise ConfigError(f"batch: must be >= 1, got {batch}")


def build_schedule(accel: AcceleratorConfig, net: NetworkConfig, batch: int,
                   plan: ShiftPlan | None = None) -> Schedule:
    """The program of one frequency-domain training iteration (see the module docstring);
    ConfigError if the accelerator cannot run the network, before any simulation work.
    The GEMM shifts come from ``plan`` (a calibrated :class:`accel.fixed.layers.ShiftPlan`;
    without one, the worst-case shift of every GEMM)."""
    check_batch(batch)
    require_hardware_support(net, "the cycle model")
    machine = Machine(accel)
    layer_names = tuple(layer.name for layer in net.layers)
    ops = lower_frequency(accel, net, batch, plan if plan is not None else ShiftPlan(), machine)
    place(ops, machine)
    emitted = emit(ops, machine, layer_names)
    check(emitted.program, accel)
    return schedule_of(ops, emitted, machine)
