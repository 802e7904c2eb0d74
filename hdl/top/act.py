"""The activation sequencer: PWL :class:`accel.program.Act` descriptors on the lanes."""
from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Shape, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In

from accel.fixed.act import ACT_LATENCY

from ..act import PwlActivation
from ..stream import complex_layout
from .layouts import BUF_BITS, REGION_BITS, entry_bits
from .logic import in_effect, shift_fifo
from .params import TopParams
from .sequencer import Sequencer, read_group, walker_head, write_group
from .signatures import TableSignature


def pwl_unit(p: TopParams) -> PwlActivation:
    """The top's PWL lanes."""
    return PwlActivation(p.lanes, p.segments, p.value_bits, rounding=p.rounding)


def table_signature(p: TopParams) -> TableSignature:
    """The PWL table's write port of the top built for ``p``."""
    return TableSignature(p.segments, PwlActivation.table_shape(p.value_bits))


class ActSequencer(Sequencer):
    """PWL forward and backward on :class:`hdl.act.PwlActivation`: ``lanes`` values per
    beat at consecutive addresses, one beat per cycle.

    Parameters
    ----------
    params : :class:`hdl.top.params.TopParams`
        Lanes, segments, value width, rounding.

    Attributes
    ----------
    pwl : :class:`hdl.act.PwlActivation`
        The lanes.

    Members
    -------
    queue, release, complete, trace
        As :class:`hdl.top.sequencer.Sequencer`'s; two releases (``x``, ``g``), one
        completion (``y``).
    x, g : ``Out(ReadGroupSignature(..., lanes))``
        The input and (backward) the incoming gradient, one beat per cycle.
    y : ``Out(WriteGroupSignature(..., lanes))``
        The output beats.
    table : ``In(TableSignature(segments, pwl.wr_data.shape()))``
        The PWL table's write port.
    """

    def __init__(self, params: TopParams) -> None:
        p = params
        self.pwl = pwl_unit(p)
        table = table_signature(p)
        assert Shape.cast(table.members["data"].shape) == self.pwl.wr_data.shape()
        super().__init__(p, {"x": read_group(p, p.lanes), "g": read_group(p, p.lanes),
                             "y": write_group(p, p.lanes)}, releases=2, completions=1,
                         members={"table": In(table)})

    def elaborate(self, platform) -> Module:
        m = Module()
        p = self.p
        lanes, aw = p.lanes, p.addr_bits
        m.submodules.pwl = pwl = self.pwl
        m.d.comb += [pwl.o.ready.eq(1), pwl.wr_en.eq(self.table.we), pwl.wr_addr.eq(self.table.addr),
                     pwl.wr_data.eq(self.table.data)]
        h = walker_head(m, "act", p, self.queue)
        head, cur = h.head, h.cur
        regs = {"left": Signal(entry_bits("count"), name="act_left"), "x": Signal(aw, name="act_x"),
                "g": Signal(aw, name="act_g"), "y": Signal(aw, name="act_y")}
        init = {"left": head.count, "x": head.r0.addr, "g": head.r1.addr, "y": head.w.addr}
        e = in_effect(m, "act", regs, h.start, init)
        left, x_ptr, g_ptr, y_ptr = e["left"], e["x"], e["g"], e["y"]
        last = h.active & (left <= lanes)
        with m.If(h.active):
            m.d.sync += [regs["left"].eq(left - lanes), regs["x"].eq(x_ptr + lanes), regs["g"].eq(g_ptr + lanes),
                         regs["y"].eq(y_ptr + lanes)]
            with m.If(last):
                m.d.sync += h.busy.eq(0)
        self.event(m, self.release[0], cur.r0, last)
        self.event(m, self.release[1], cur.r1, last & cur.r1_active)
        lmask = Cat(*[left > lane for lane in range(lanes)])
        m.d.comb += [self.x.buf.eq(cur.r0.buf), self.x.base.eq(x_ptr), self.x.en.eq(h.active),
                     self.g.buf.eq(cur.r1.buf), self.g.base.eq(g_ptr), self.g.en.eq(h.active & cur.backward)]
        # operand stage: the read data arrive one cycle after the addresses
        q_valid, q_mask, q_bwd = Signal(), Signal(lanes), Signal()
        m.d.sync += [q_valid.eq(h.active), q_mask.eq(lmask), q_bwd.eq(cur.backward)]
        m.d.comb += [pwl.i.valid.eq(q_valid), pwl.i.payload.backward.eq(q_bwd)]
        cl = complex_layout(p.value_bits)
        for lane in range(lanes):
            xw = data.View(cl, self.x.data[lane])
            gw = data.View(cl, self.g.data[lane])
            m.d.comb += [pwl.i.payload.x[lane].re.eq(Mux(q_mask[lane], xw.re, 0)),
                         pwl.i.payload.x[lane].im.eq(Mux(q_mask[lane], xw.im, 0)),
                         pwl.i.payload.g[lane].re.eq(Mux(q_mask[lane], gw.re, 0)),
                         pwl.i.payload.g[lane].im.eq(Mux(q_mask[lane], gw.im, 0))]
        # beats in flight: where each output beat goes, in order
        beat_layout = data.StructLayout({"addr": aw, "mask": lanes, "buf": BUF_BITS, "region": REGION_BITS,
                                         "last": 1})
        bq_depth = ACT_LATENCY + 3                  # at most ACT_LATENCY + 2 beats in flight
        bq = [Signal(beat_layout, name=f"beat_{i}") for i in range(bq_depth)]
        bq_count = Signal(range(bq_depth + 1))
        b_new = Signal(beat_layout)
        m.d.comb += [b_new.addr.eq(y_ptr), b_new.mask.eq(lmask), b_new.buf.eq(cur.w.buf),
                     b_new.region.eq(cur.w.region), b_new.last.eq(last)]
        shift_fifo(m, bq, bq_count, h.active, pwl.o.valid, b_new)
        bh = bq[0]
        m.d.comb += [self.y.buf.eq(bh.buf), self.y.base.eq(bh.addr), self.y.mask.eq(bh.mask),
                     self.y.en.eq(pwl.o.valid)]
        for i in range(lanes):
            m.d.comb += self.y.data[i].eq(Cat(pwl.o.payload.y[i].re, pwl.o.payload.y[i].im))
        done = pwl.o.valid & bh.last
        self.event(m, self.complete[0], bh, done)
        m.d.comb += [self.trace.start.eq(h.start), self.trace.end.eq(last), self.trace.done.eq(done),
                     self.trace.idle.eq(~h.busy & ~q_valid & (bq_count == 0))]
        return m
