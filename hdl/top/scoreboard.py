"""The region scoreboard: per buffer region, four wrapping counters -- writes dispatched /
completed, reads dispatched / released.

At dispatch a descriptor records, for each region it reads, the writes dispatched before
it, and for the region it writes, the reads dispatched before it; it starts when the
completed writes (released reads) have caught up.  That is the cycle model's rule (a read
waits for the region's last write, a write for every earlier read): a later write cannot
complete before an earlier read has been released, so counting completions counts exactly
the earlier ones.
"""
from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Signal, Value
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from .layouts import COUNTER_BITS, TOP_UNITS, dispatch_layout, entry_layout
from .logic import select
from .params import TopParams
from .signatures import EventSignature


class Scoreboard(wiring.Component):
    """Counts each region's writes and reads; stamps dispatched descriptors with the counts
    they wait for and holds each unit's queue head until they are reached.

    Parameters
    ----------
    params : :class:`hdl.top.params.TopParams`
        Buffers and regions (``len(buffers) x regions`` counters of each kind).
    releases, completions : int
        How many release and completion events the units raise (their ``release`` and
        ``complete`` members).

    Members
    -------
    i : ``In(stream.Signature(dispatch_layout(params)))``
        Decoded descriptors.  A transfer is a dispatch: it counts a write of the
        descriptor's ``w`` region and a read of its ``r0`` (and active ``r1``) region.
    o : ``Out(stream.Signature(dispatch_layout(params)))``
        The same descriptors, ``wait_r0``/``wait_r1`` set to the writes of their regions and
        ``wait_w`` to the reads of its region dispatched before them (the transfer is ``i``'s).
    heads : ``In(stream.Signature(entry_layout(params))).array(len(TOP_UNITS))``
        Each unit's queue head.
    ready : ``Out(stream.Signature(entry_layout(params))).array(len(TOP_UNITS))``
        Each unit's queue head, valid when the completed writes of its read regions and
        the released reads of its write region equal the counts it waits for (the transfer
        is the head's).
    release : ``In(EventSignature()).array(releases)``
        A unit stopped reading a region (the reads of a descriptor are released).
    complete : ``In(EventSignature()).array(completions)``
        A unit wrote a descriptor's last result into a region.
    """

    def __init__(self, params: TopParams, releases: int, completions: int) -> None:
        self.p = params
        entry = entry_layout(params)
        units = len(TOP_UNITS)
        super().__init__({
            "i": In(stream.Signature(dispatch_layout(params))),
            "o": Out(stream.Signature(dispatch_layout(params))),
            "heads": In(stream.Signature(entry)).array(units),
            "ready": Out(stream.Signature(entry)).array(units),
            "release": In(EventSignature()).array(releases),
            "complete": In(EventSignature()).array(completions),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        p = self.p
        nb, R = len(p.buffers), p.regions

        def counters(name: str) -> list[list[Signal]]:
            return [[Signal(COUNTER_BITS, name=f"{name}_{p.buffers[b][0]}_{r}") for r in range(R)]
                    for b in range(nb)]

        w_iss, w_done, r_iss, r_rel = (counters(n) for n in ("w_iss", "w_done", "r_iss", "r_rel"))
        rb = max(1, ceil_log2(R))

        def count_of(table: list[list[Signal]], ref: data.View) -> Value:
            """The counter of ``ref``'s (buffer, region): one complete case over the low
            region and buffer bits (regions padded to a power of two)."""
            flat = [c for row in table for c in row + [Const(0, COUNTER_BITS)] * ((1 << rb) - R)]
            return select(flat, Cat(ref.region[:rb], ref.buf[:max(1, ceil_log2(nb))]), COUNTER_BITS)

        # dispatch: stamp the counts the descriptor waits for, count its reads and write
        d, dq = self.i.payload.entry, self.o.payload.entry
        go = self.i.valid & self.i.ready
        m.d.comb += [self.o.payload.eq(self.i.payload), self.o.valid.eq(self.i.valid), self.i.ready.eq(self.o.ready),
                     dq.wait_r0.eq(count_of(w_iss, d.r0)), dq.wait_r1.eq(count_of(w_iss, d.r1)),
                     dq.wait_w.eq(count_of(r_iss, d.w))]
        # a queue head is ready to start when the counts it waits for are reached
        for head, ready in zip(self.heads, self.ready):
            h = head.payload
            ok = Signal()
            m.d.comb += ok.eq(head.valid
                              & (count_of(w_done, h.r0) == h.wait_r0)
                              & (~h.r1_active | (count_of(w_done, h.r1) == h.wait_r1))
                              & (count_of(r_rel, h.w) == h.wait_w))
            m.d.comb += [ready.payload.eq(h), ready.valid.eq(ok), head.ready.eq(ready.ready & ok)]
        # Each event is decoded once into a one-hot vector over (buffer, region) (only
        # dispatched, hence in-range, refs raise events); a counter adds its bit of each.
        events = {
            id(w_iss): [(d.w.buf, d.w.region, go)],
            id(r_iss): [(d.r0.buf, d.r0.region, go), (d.r1.buf, d.r1.region, go & d.r1_active)],
            id(r_rel): [(e.buf, e.region, e.en) for e in self.release],
            id(w_done): [(e.buf, e.region, e.en) for e in self.complete],
        }
        bb = max(1, ceil_log2(nb))
        for table in (w_iss, w_done, r_iss, r_rel):
            hots = []
            for buf, region, en in events[id(table)]:
                hot = Signal(nb << rb)
                m.d.comb += hot.eq(en.as_unsigned() << Cat(region[:rb], buf[:bb]))
                hots.append(hot)
            for b in range(nb):
                for r in range(R):
                    m.d.sync += table[b][r].eq(table[b][r] + sum(h[(b << rb) | r] for h in hots))
        return m
