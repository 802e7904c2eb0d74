"""Per-unit timing models of the cycle-level simulator, and what they share.

Each unit module turns one descriptor into an :class:`Expansion`: the transactions
(:class:`Work`) it runs on its unit, with their pipeline timing, plus the SRAM words it
reads and writes, its DRAM bytes and its operation counts.  The timing formulas come from
the bit-accurate unit models in ``accel/fixed`` (the RTL's measured contract), so that the
simulator and the RTL can be held to the same cycle counts.

Pipeline model of one :class:`Work` starting at cycle ``s``:

* the unit accepts input for ``occupancy`` cycles, ``[s, s + occupancy)``; its next work
  can start at ``s + occupancy`` (initiation interval);
* ``compute`` of those cycles are the unit's own pipeline rate; the rest (``occupancy -
  compute``) is the time the buffers' ports need to deliver its operands (``banks`` words
  per cycle per buffer), counted as a ``port`` stall;
* its results are complete at ``s + occupancy + tail`` (``tail``: pipeline drain after the
  last input beat, from the unit's latency formula).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil

from accel.config import AcceleratorConfig, ConfigError
from accel.fixed.update import MOMENTUM_EXTRA_BITS
from accel.layout import buffer_depth, buffer_words
from accel.program import ROM

#: The simulator's three on-chip buffers, by role: spectra and activations, weights,
#: gradients.  Each holds complex values of the matching format width.
BUFFER_ROLES = ("act", "weight", "grad")


@dataclass(frozen=True)
class Work:
    """One transaction on a unit (see the module docstring for the timing fields).
    ``after`` is the index, within the same descriptor, of an earlier work whose results
    this one needs (-1: none)."""
    occupancy: int
    compute: int
    tail: int
    after: int = -1


@dataclass
class Expansion:
    """A descriptor's transactions and counters."""
    works: list[Work]
    reads: dict[int, int] = field(default_factory=dict)    # buffer index -> words
    writes: dict[int, int] = field(default_factory=dict)
    dram_read_bytes: int = 0
    dram_write_bytes: int = 0
    ops: dict[str, int] = field(default_factory=dict)


class Machine:
    """The accelerator as the units see it: buffer widths, ports and capacities, format
    widths, array and engine sizes."""

    def __init__(self, accel: AcceleratorConfig) -> None:
        names = [s.name for s in accel.sram]
        missing = [r for r in BUFFER_ROLES if r not in names]
        if missing:
            raise ConfigError(f"sram: the simulator needs buffers named {', '.join(BUFFER_ROLES)}; "
                              f"missing {', '.join(missing)} (have {', '.join(names)})")
        self.accel = accel
        self.names = names
        self.index = {n: i for i, n in enumerate(names)}
        self.word_bits = [s.word_bits for s in accel.sram]
        self.banks = [s.banks for s in accel.sram]
        self.capacity = [buffer_depth(s.kbytes, s.word_bits) for s in accel.sram]
        f = accel.formats
        role_bits = {"act": f.data_bits, "weight": f.weight_bits, "grad": f.grad_bits}
        #: bits of one real value held in each buffer (a complex value is twice that)
        self.value_bits = [role_bits.get(n, f.data_bits) for n in names]
        self.momentum_bits = f.grad_bits + MOMENTUM_EXTRA_BITS

    def buf(self, role: str) -> int:
        return self.index[role]

    def words(self, buf: int, values: int, complex_: bool = True, bits: int | None = None) -> int:
        """Buffer words holding ``values`` values of buffer ``buf`` (packed, rounded up)."""
        if buf == ROM:
            return 0
        return buffer_words(values, bits if bits is not None else self.value_bits[buf], self.word_bits[buf], complex_)

    def port_cycles(self, words: dict[int, int]) -> int:
        """Cycles the buffers' ports need for these word counts (reads and writes share the
        ``banks`` ports of a buffer; buffers work in parallel)."""
        return max([ceil(w / self.banks[b]) for b, w in words.items() if b != ROM] + [0])

    def dram_bytes(self, buf: int, words: int) -> int:
        return ceil(words * self.word_bits[buf] / 8)


def merge(*counts: dict[int, int]) -> dict[int, int]:
    """Sum per-buffer word counts."""
    out: dict[int, int] = {}
    for c in counts:
        for k, v in c.items():
            if k != ROM and v:
                out[k] = out.get(k, 0) + v
    return out
