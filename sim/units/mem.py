"""DRAM transfers between DRAM tensors and the on-chip buffers.

One channel of ``dram.bytes_per_cycle`` bytes per cycle: a transfer of ``b`` bytes
occupies it ``dram_burst_cycles(b) = ceil(b / bytes_per_cycle)`` cycles, and its data
arrive ``dram.latency_cycles`` after they were issued, so a load's last word is in the
buffer ``ceil(b / bytes_per_cycle) + latency`` cycles after it starts; a store releases its
buffer region once its occupancy ends and is visible in DRAM ``latency`` cycles later.
The buffers (named SRAMs of ``kbytes``, ``banks`` ports of ``word_bits``) are modelled by
:class:`sim.units.Machine` (ports, widths) and by the engine's region scoreboard
(capacity, double buffering).
"""
from __future__ import annotations

from math import ceil

from accel.config import DramConfig
from accel.program import DramLoad, DramStore

from . import Expansion, Machine, Work


def dram_burst_cycles(nbytes: int, dram: DramConfig) -> int:
    """Cycles a transfer of ``nbytes`` occupies the channel."""
    return ceil(nbytes / dram.bytes_per_cycle)


def expand(d: DramLoad | DramStore, m: Machine) -> Expansion:
    """One transaction on the DRAM channel."""
    dram = m.accel.dram
    if isinstance(d, DramLoad):
        buf = d.dst.buf
        nbytes = m.dram_bytes(buf, d.words)
        cyc = dram_burst_cycles(nbytes, dram)
        return Expansion([Work(cyc, cyc, dram.latency_cycles)], writes={buf: d.words},
                         dram_read_bytes=nbytes, ops={"dram_transfers": 1})
    buf = d.src.buf
    nbytes = m.dram_bytes(buf, d.words)
    cyc = dram_burst_cycles(nbytes, dram)
    return Expansion([Work(cyc, cyc, dram.latency_cycles)], reads={buf: d.words},
                     dram_write_bytes=nbytes, ops={"dram_transfers": 1})
