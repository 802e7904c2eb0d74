"""Memory a simulated iteration needs, estimated before it runs, and the limit it must fit.

A run that does not fit is refused with the estimate (ConfigError, exit 2) instead of
swapping for an hour or being killed.  The estimate comes from the program itself:

* values: every tensor of the schedule is held as integer mantissas, re and im int64
  (16 bytes per value), and the unit models' temporaries add about half as much again
  (measured peaks, lenet-digits batch 32 / 512, cifar-small 32, lenet-mnist 256: 1.4-2.3x
  the tensors, plus about 110 MB for the interpreter, numpy, numba and the dataset);
  :data:`BYTES_PER_VALUE` takes 2.5x;
* timing: each descriptor with its expansion, transactions and intervals takes about 2 KB
  (measured: 1.9-2.0 KB at 5 k - 113 k descriptors); :data:`BYTES_PER_DESCRIPTOR` takes 4.

Tensor sizes are affine in the batch and descriptor counts nearly so (more chunks once a
batch no longer fits the buffers), so a batch above :data:`EXACT_BATCH` is extrapolated
from the schedules at that batch and half of it: building the schedule of a batch that
would not fit would itself exhaust the machine.

The limit is the machine's physical memory, or ``FDACCEL_MEMORY_LIMIT`` (bytes, or with a
K, M, G or T suffix: ``512M``, ``2G``).
"""
from __future__ import annotations

import os
import re

from accel.config import AcceleratorConfig, ConfigError, NetworkConfig
from sim.schedule import Schedule, build_schedule

MEMORY_ENV = "FDACCEL_MEMORY_LIMIT"
BASE_BYTES = 200 << 20
BYTES_PER_VALUE = 40
BYTES_PER_DESCRIPTOR = 4096
#: Batches up to this size are estimated from their own schedule.
EXACT_BATCH = 64

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def memory_limit() -> tuple[int, str]:
    """(bytes, where the figure comes from): ``FDACCEL_MEMORY_LIMIT`` if set, else the
    machine's physical memory."""
    text = os.environ.get(MEMORY_ENV)
    if text is None:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "the machine's memory"
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
    if m is None or float(m.group(1)) <= 0:
        raise ConfigError(f"{MEMORY_ENV}: expected a positive size such as 512M or 2G, got {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()]), MEMORY_ENV


def _counts(schedule: Schedule) -> tuple[int, int]:
    return sum(t.values for t in schedule.tensors.values()), len(schedule.program.descriptors)


def simulation_bytes(accel: AcceleratorConfig, net: NetworkConfig, batch: int, values: bool = True) -> int:
    """Estimated peak memory of one simulated iteration (see the module docstring);
    building the schedule raises the ConfigErrors of a configuration that cannot run."""
    small = min(batch, EXACT_BATCH)
    tensors, descriptors = _counts(build_schedule(accel, net, small))
    if batch > small:
        half_tensors, half_descriptors = _counts(build_schedule(accel, net, small // 2))
        extra = (batch - small) / (small - small // 2)
        tensors += int(extra * (tensors - half_tensors))
        descriptors += int(extra * (descriptors - half_descriptors))
    return BASE_BYTES + descriptors * BYTES_PER_DESCRIPTOR + (tensors * BYTES_PER_VALUE if values else 0)


def check_memory(accel: AcceleratorConfig, net: NetworkConfig, batch: int, values: bool, what: str) -> int:
    """:func:`simulation_bytes`, or ConfigError naming ``what`` if it exceeds
    :func:`memory_limit`."""
    need = simulation_bytes(accel, net, batch, values)
    limit, source = memory_limit()
    if need > limit:
        raise ConfigError(f"{what}: needs about {_size(need)} of memory ({net.name}, batch {batch}"
                          f"{'' if values else ', timing only'}), more than {_size(limit)} ({source}); "
                          f"lower --batch or raise {MEMORY_ENV}")
    return need


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
