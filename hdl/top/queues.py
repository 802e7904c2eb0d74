"""The unit queues: per unit, :data:`accel.program.QUEUE_DEPTH` dispatched descriptors not
yet started, oldest first."""
from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from accel.program import QUEUE_DEPTH

from .layouts import TOP_UNITS, dispatch_layout, entry_layout
from .logic import select, shift_fifo
from .params import TopParams


class UnitQueues(wiring.Component):
    """One shift-register queue of :data:`~accel.program.QUEUE_DEPTH` entries per unit
    (:data:`TOP_UNITS`).  Dispatch waits while the target queue is full; a slot frees in
    the cycle its descriptor starts (so a full queue takes a descriptor in that cycle).

    Parameters
    ----------
    params : :class:`hdl.top.params.TopParams`
        What the entries hold (:func:`hdl.top.layouts.entry_layout`).

    Members
    -------
    i : ``In(stream.Signature(dispatch_layout(params)))``
        Dispatched descriptors, each pushed onto the queue of its ``unit``.
    o : ``Out(stream.Signature(entry_layout(params))).array(len(TOP_UNITS))``
        Each queue's head, valid while the queue is not empty; a transfer pops it.
    """

    def __init__(self, params: TopParams) -> None:
        self.p = params
        super().__init__({"i": In(stream.Signature(dispatch_layout(params))),
                          "o": Out(stream.Signature(entry_layout(params))).array(len(TOP_UNITS))})

    def elaborate(self, platform) -> Module:
        m = Module()
        D = QUEUE_DEPTH
        entry = entry_layout(self.p)
        queues = []
        for u, o in zip(TOP_UNITS, self.o):
            slots = [Signal(entry, name=f"q_{u}_{i}") for i in range(D)]
            count = Signal(range(D + 1), name=f"q_{u}_count")
            pop = Signal(name=f"q_{u}_pop")
            m.d.comb += [o.payload.eq(slots[0]), o.valid.eq(count != 0), pop.eq(o.valid & o.ready)]
            queues.append((slots, count, pop))
        unit = self.i.payload.unit
        m.d.comb += self.i.ready.eq(select([Mux(count < D, 1, pop) for _, count, pop in queues], unit, 1))
        go = self.i.valid & self.i.ready
        for ui, (slots, count, pop) in enumerate(queues):
            shift_fifo(m, slots, count, go & (unit == ui), pop, self.i.payload.entry)
        return m
