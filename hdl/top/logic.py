"""Small pieces of logic the top's components share: a complete-case select, a
shift-register FIFO, a named copy of a value, and a walker's state in effect."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from amaranth.hdl import Array, Const, Module, Mux, Signal, Value, ValueCastable
from amaranth.utils import ceil_log2


def select(items: Sequence[Value | ValueCastable], index: Value, width: int) -> Value:
    """``items[index]`` over every value of ``index``'s low ``max(1, ceil_log2(len(items)))``
    bits: the list is padded with zeros to a power of two, so the emitted ``case`` covers
    every pattern (Verilator's CASEINCOMPLETE) and no out-of-range index reads an
    undefined value.  Callers only use the result for in-range indices (the decoder
    rejects the others before they are dispatched)."""
    bits = max(1, ceil_log2(len(items)))
    padded = list(items) + [Const(0, width)] * ((1 << bits) - len(items))
    return Array(padded)[index[:bits]]


def named(m: Module, value: Value, name: str) -> Signal:
    """``value`` in a signal of its own (so that every port that uses it shares one copy)."""
    sig = Signal(len(value), name=name)
    m.d.comb += sig.eq(value)
    return sig


def shift_fifo(m: Module, slots: Sequence[Signal], count: Signal, push: Value, pop: Value,
               new: Value | ValueCastable) -> None:
    """A shift-register FIFO: ``slots[0]`` is the head; push and pop in the same cycle."""
    for i in range(len(slots)):
        shifted = slots[i + 1] if i + 1 < len(slots) else slots[i]
        with m.If(push & (Mux(pop, count - 1, count) == i)):
            m.d.sync += slots[i].eq(new)
        with m.Elif(pop):
            m.d.sync += slots[i].eq(shifted)
    m.d.sync += count.eq(count + push - pop)


def in_effect(m: Module, name: str, regs: Mapping[str, Signal], start: Value,
              init: Mapping[str, Value | int]) -> dict[str, Signal]:
    """Per walker register, its value in effect this cycle: ``init`` (0 if absent) in the
    start cycle, else the register."""
    e = {}
    for key, reg in regs.items():
        e[key] = Signal(len(reg), name=f"{name}_{key}_e")
        m.d.comb += e[key].eq(Mux(start, init.get(key, 0), reg))
    return e
