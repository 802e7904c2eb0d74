"""Placement: which intermediate tensors stay on chip, and where.

Each buffer's lower half is a resident area: intermediate tensors that fit there for
their whole lifetime (first-fit in program order) stay on chip, each in a scoreboard
region of its own.  The rest of each buffer is staging (:mod:`sim.schedule.emission`).
Parameters, momenta, input images and labels live in DRAM; so does every intermediate
that does not fit, and such tensors are loaded and stored chunk by chunk (a small buffer
costs DRAM traffic, not an error).
"""
from __future__ import annotations

from collections.abc import Sequence

from ..units import Machine
from .ir import Op, Tensor

#: Staging region ids: slot * STAGING_OPERANDS + operand index; resident tensors above.
STAGING_OPERANDS = 8
FIRST_RESIDENT_REGION = 2 * STAGING_OPERANDS
MAX_REGION = 255


def resident_words(machine: Machine, buf: int) -> int:
    """Words of buffer ``buf``'s resident area (its lower half)."""
    return machine.capacity[buf] // 2


def staging_words(machine: Machine, buf: int) -> int:
    """Words of buffer ``buf``'s staging area (the rest)."""
    return machine.capacity[buf] - resident_words(machine, buf)


def place(ops: Sequence[Op], machine: Machine) -> None:
    """First-fit the intermediate tensors of ``ops`` into the resident half of their home
    buffers, in order of first use; sets ``resident``, ``addr`` and ``region`` of those
    that fit (while region ids last)."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    tensors: dict[int, Tensor] = {}
    for k, op in enumerate(ops):
        for o in op.operands:
            t = o.tensor
            tensors.setdefault(id(t), t)
            first.setdefault(id(t), k)
            last[id(t)] = k
    live: dict[int, list[tuple[int, int, int]]] = {b: [] for b in range(len(machine.names))}
    next_region = {b: FIRST_RESIDENT_REGION for b in range(len(machine.names))}
    for key in sorted(tensors, key=lambda t: first[t]):
        t = tensors[key]
        if t.persistent or t.scratch:
            continue
        b = t.buf
        pool = resident_words(machine, b)
        size = machine.words(b, t.values, t.complex_, t.bits)
        live[b] = [a for a in live[b] if a[2] >= first[key]]
        addr = 0
        for a0, a_words, _ in sorted(live[b]):
            if a0 - addr >= size:
                break
            addr = max(addr, a0 + a_words)
        if addr + size <= pool and next_region[b] <= MAX_REGION:
            live[b].append((addr, size, last[key]))
            t.resident, t.addr, t.region = True, addr, next_region[b]
            next_region[b] += 1
